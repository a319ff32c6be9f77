"""The price model: deterministic, on the tick grid, bid below ask, bars consistent, and pins
(gap, freeze) that move the market the way a script says."""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ibguard.errors import UsageError
from ibguard.kit.sim.prices import DEFAULT_ANCHOR, PriceParams, PricePath, on_tick

TICKS = st.sampled_from([Decimal("0.01"), Decimal("0.25"), Decimal("0.00005"), Decimal("0.05")])
STARTS = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("5000"), places=2)
MOMENTS = st.integers(min_value=-3 * 365 * 86400, max_value=3 * 365 * 86400).map(
    lambda s: DEFAULT_ANCHOR + timedelta(seconds=s)
)


def _path(start: Decimal, tick: Decimal, spread: int = 1, key: str = "X") -> PricePath:
    params = PriceParams(start=start, tick=tick, spread_ticks=spread, volatility=Decimal("0.6"))
    return PricePath(params, key=key)


def _on_grid(price: Decimal, tick: Decimal) -> bool:
    return price > 0 and price % tick == 0


@settings(max_examples=300, deadline=None)
@given(start=STARTS, tick=TICKS, spread=st.integers(1, 5), when=MOMENTS)
def test_quotes_are_on_the_tick_grid_with_bid_below_ask(
    start: Decimal, tick: Decimal, spread: int, when: datetime
) -> None:
    quote = _path(start, tick, spread).quote(when)
    assert _on_grid(quote.bid, tick)
    assert _on_grid(quote.ask, tick)
    assert quote.bid < quote.ask
    assert quote.ask - quote.bid == tick * spread
    assert quote.last in (quote.bid, quote.ask)


@settings(max_examples=200, deadline=None)
@given(
    start=STARTS,
    tick=TICKS,
    when=MOMENTS,
    seconds=st.sampled_from([5, 60, 300, 3600, 86400, 7 * 86400]),
)
def test_bars_are_consistent_and_on_the_tick_grid(
    start: Decimal, tick: Decimal, when: datetime, seconds: int
) -> None:
    bar = _path(start, tick).bar(when, when + timedelta(seconds=seconds))
    assert bar is not None
    assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
    for price in (bar.open, bar.high, bar.low, bar.close):
        assert _on_grid(price, tick)
    assert bar.low <= bar.wap <= bar.high
    assert bar.volume >= 0


@settings(max_examples=100, deadline=None)
@given(start=STARTS, tick=TICKS, when=MOMENTS)
def test_the_same_params_give_the_same_prices_whatever_was_asked_before(
    start: Decimal, tick: Decimal, when: datetime
) -> None:
    first = _path(start, tick)
    first.quote(when - timedelta(days=3))
    assert first.quote(when) == _path(start, tick).quote(when)


def test_different_instruments_move_differently() -> None:
    when = DEFAULT_ANCHOR + timedelta(days=30)
    prices = {_path(Decimal(100), Decimal("0.01"), key=k).price(when) for k in "ABCDEFGH"}
    assert len(prices) > 4


def test_the_path_passes_its_start_price_at_the_anchor() -> None:
    assert _path(Decimal("187.25"), Decimal("0.01")).price(DEFAULT_ANCHOR) == Decimal("187.25")


@pytest.mark.parametrize("horizon", [60, 3600, 86400])
def test_volatility_of_returns_matches_the_annual_volatility(horizon: int) -> None:
    params = PriceParams(start=Decimal(100), volatility=Decimal("0.30"), tick=Decimal("0.0001"))
    path = PricePath(params, key="VOL")
    returns = [
        math.log(
            path.price(DEFAULT_ANCHOR + timedelta(seconds=i * horizon * 1.37 + horizon))
            / path.price(DEFAULT_ANCHOR + timedelta(seconds=i * horizon * 1.37))
        )
        for i in range(800)
    ]
    expected = 0.30 * math.sqrt(horizon / (365.25 * 86400))
    assert 0.7 * expected < statistics.pstdev(returns) < 1.3 * expected


def test_a_gap_moves_the_price_and_the_walk_continues_from_there() -> None:
    path = _path(Decimal(100), Decimal("0.01"))
    at = DEFAULT_ANCHOR + timedelta(hours=1)
    before = path.price(at - timedelta(seconds=1))
    path.gap_to(at, Decimal("80.00"))
    assert path.price(at - timedelta(seconds=1)) == before  # the past is unchanged
    assert path.price(at) == Decimal("80.00")
    later = [path.price(at + timedelta(minutes=m)) for m in range(1, 30)]
    assert len(set(later)) > 1
    assert all(abs(p - 80) < 8 for p in later)


def test_a_frozen_market_does_not_move_until_unfrozen() -> None:
    path = _path(Decimal(100), Decimal("0.01"))
    at = DEFAULT_ANCHOR + timedelta(hours=2)
    path.freeze(at, Decimal("99.50"))
    frozen = {path.quote(at + timedelta(minutes=m)).mid for m in range(0, 120, 7)}
    assert len(frozen) == 1
    path.unfreeze(at + timedelta(hours=3))
    assert path.price(at + timedelta(hours=3)) == Decimal("99.50")
    moving = {path.price(at + timedelta(hours=3, minutes=m)) for m in range(1, 60, 5)}
    assert len(moving) > 1


def test_outside_trading_sessions_the_quote_is_the_last_close() -> None:
    close = datetime(2024, 1, 2, 21, 0, tzinfo=timezone.utc)
    path = PricePath(
        PriceParams(start=Decimal(100)),
        key="S",
        is_open=lambda when: when < close,
        last_close=lambda when: close,
    )
    at_close = path.quote(close - timedelta(microseconds=1))
    assert path.quote(close + timedelta(hours=5)).bid == at_close.bid
    assert path.bar(close, close + timedelta(hours=1)) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("start", Decimal(0)), ("tick", Decimal(-1)), ("volatility", Decimal(9)), ("spread_ticks", 0)],
)
def test_impossible_parameters_are_refused(field: str, value: object) -> None:
    kw: dict[str, object] = {"start": Decimal(10), field: value}
    with pytest.raises(UsageError):
        PriceParams(**kw)  # type: ignore[arg-type]


def test_on_tick_rounds_to_the_nearest_tick_and_never_below_one() -> None:
    assert on_tick(Decimal("10.126"), Decimal("0.05")) == Decimal("10.15")
    assert on_tick(Decimal("0.001"), Decimal("0.25")) == Decimal("0.25")


def test_a_closed_market_shows_a_price_pinned_after_the_close() -> None:
    close = datetime(2024, 1, 2, 21, 0, tzinfo=timezone.utc)
    path = PricePath(
        PriceParams(start=Decimal(100)),
        key="S",
        is_open=lambda when: when < close,
        last_close=lambda when: close,
    )
    path.gap_to(close + timedelta(hours=2), Decimal("87.50"))
    assert path.price(close + timedelta(hours=1)) != Decimal("87.50")  # before the pin
    assert path.price(close + timedelta(hours=3)) == Decimal("87.50")
