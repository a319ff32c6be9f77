"""History as TWS serves it, straight from the history desk: bars ordered, unique, inside the
asked span and the sessions, consistent OHLC on the tick grid, for any bar size and span; and
the request texts (durations, bar sizes, end times) read the way TWS reads them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim.history import (
    RequestRefused,
    parse_bar_size,
    parse_duration,
    parse_end,
)
from ibguard.kit.sim.market_messages import HistoricalData
from ibguard.kit.sim.messages import Contract, Error, Message

NEW_YORK = ZoneInfo("US/Eastern")
NOW = datetime(2024, 1, 10, 18, 0, tzinfo=timezone.utc)
BROKER = SimBroker(BrokerConfig(start=NOW, market_prices=True))
SIZES = ["15 mins", "30 mins", "1 hour", "4 hours", "1 day", "1 week", "1 month"]
SPANS = ["3600 S", "1 D", "3 D", "2 W", "2 M"]


def _ask(con_id: int, duration: str, size: str, what: str, rth: bool, fmt: int = 2) -> Message:
    got: list[Message] = []
    session = BROKER.connect(99, got.append)
    try:
        BROKER.history.historical_data(
            session, 1, Contract(conId=con_id, secType="", exchange="", currency=""),
            end="", duration=duration, bar_size=size, what=what, use_rth=rth,
            format_date=fmt, keep_up_to_date=False,
        )  # fmt: skip
        BROKER.flush()
    finally:
        BROKER.disconnect(session)
    (answer,) = [
        m for m in got if isinstance(m, HistoricalData) or (isinstance(m, Error) and m.reqId == 1)
    ]
    return answer


@settings(max_examples=30, deadline=None)
@given(
    con_id=st.sampled_from([265598, 12087792, 533620665]),  # AAPL, EUR.USD, ESH4
    duration=st.sampled_from(SPANS),
    size=st.sampled_from(SIZES),
    what=st.sampled_from(["MIDPOINT", "BID", "ASK"]),
    rth=st.booleans(),
)
def test_bars_are_ordered_unique_inside_the_span_and_consistent(
    con_id: int, duration: str, size: str, what: str, rth: bool
) -> None:
    answer = _ask(con_id, duration, size, what, rth)
    if isinstance(answer, Error):  # only a span too long for the bar size is refused
        assert answer.errorCode == 162
        return
    instrument = BROKER.instruments.by_con_id(con_id)
    assert instrument is not None
    tick = instrument.min_tick
    dates = [b.date for b in answer.bars]
    assert dates == sorted(dates, key=lambda d: (len(d), d))
    assert len(set(dates)) == len(dates)
    start = NOW - parse_duration(duration)
    for bar in answer.bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert all(p % tick == 0 for p in (bar.open, bar.high, bar.low, bar.close))
        if len(bar.date) > 8:  # intraday: epoch seconds inside the span
            when = datetime.fromtimestamp(int(bar.date), timezone.utc)
            assert start - timedelta(days=1) <= when < NOW


def test_trades_bars_carry_volume_and_quote_bars_do_not() -> None:
    trades = _ask(265598, "1 D", "1 hour", "TRADES", True)
    mid = _ask(265598, "1 D", "1 hour", "MIDPOINT", True)
    assert isinstance(trades, HistoricalData)
    assert isinstance(mid, HistoricalData)
    assert all(b.volume > 0 and b.barCount > 0 for b in trades.bars)
    assert all(b.volume == -1 and b.barCount == -1 for b in mid.bars)


def test_rth_hourly_bars_start_at_the_open_and_end_before_the_close() -> None:
    answer = _ask(265598, "2 D", "1 hour", "TRADES", True, fmt=1)
    assert isinstance(answer, HistoricalData)
    day = [b.date for b in answer.bars if b.date.startswith("20240109")]  # a whole session
    assert [d[9:14] for d in day] == [
        "09:30", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00",
    ]  # fmt: skip
    assert all(d.endswith(" US/Eastern") for d in day)


@pytest.mark.parametrize(
    ("text", "seconds"), [("60 S", 60), ("2 D", 172800), ("1 W", 604800), ("1 Y", 31536000)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "1", "D 1", "1 Q", "-1 D", "1.5 D"])
def test_bad_durations_are_321(text: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        parse_duration(text)
    assert refused.value.code == 321


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 secs", timedelta(seconds=1)),
        ("5 mins", timedelta(minutes=5)),
        ("1 hour", timedelta(hours=1)),
        ("8 hours", timedelta(hours=8)),
        ("1 day", "day"),
        ("1W", "week"),
        ("1 month", "month"),
    ],
)
def test_bar_sizes(text: str, expected: object) -> None:
    assert parse_bar_size(text) == expected


@pytest.mark.parametrize("text", ["7 mins", "1 sec x", "2 days", "90 secs", ""])
def test_bad_bar_sizes_are_321_listing_the_legal_ones(text: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        parse_bar_size(text)
    assert refused.value.code == 321
    assert "Legal ones are: 1 secs" in refused.value.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", NOW),
        ("20240105 16:00:00", datetime(2024, 1, 5, 21, 0, tzinfo=timezone.utc)),
        ("20240105 16:00:00 US/Eastern", datetime(2024, 1, 5, 21, 0, tzinfo=timezone.utc)),
        ("20240105 16:00:00 UTC", datetime(2024, 1, 5, 16, 0, tzinfo=timezone.utc)),
        ("20240105-16:00:00", datetime(2024, 1, 5, 16, 0, tzinfo=timezone.utc)),
        ("20240105", datetime(2024, 1, 6, 4, 59, 59, tzinfo=timezone.utc)),
        ("20300101 00:00:00 UTC", NOW),  # never after now
    ],
)
def test_end_times_read_as_tws_reads_them(text: str, expected: datetime) -> None:
    assert parse_end(text, NEW_YORK, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "20240105 25:00:00", "20240105 16:00:00 Mars/Base"])
def test_bad_end_times_are_321(text: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        parse_end(text, NEW_YORK, NOW)
    assert refused.value.code == 321


def test_prices_in_history_match_the_quotes_at_the_same_moment() -> None:
    answer = _ask(265598, "3600 S", "1 min", "MIDPOINT", False)
    assert isinstance(answer, HistoricalData)
    last = answer.bars[-1]
    when = datetime.fromtimestamp(int(last.date), timezone.utc)
    instrument = BROKER.instruments.by_con_id(265598)
    assert instrument is not None
    assert last.open == BROKER.market.price(instrument, when)
    assert Decimal(0) < last.open
