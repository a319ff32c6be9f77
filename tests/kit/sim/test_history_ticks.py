"""Historical ticks and market rules at the SimBroker (kit/sim/history_ticks.py,
market_rules.py): ticks are the model's seconds inside the sessions only, capped at IB's 1000,
in time order from a start or up to an end; contract details name one rule per valid
exchange and reqMarketRule answers the rule's increment, the instrument's minTick."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim.market_messages import HistoricalTicksBidAsk, HistoricalTicksLast
from ibguard.kit.sim.market_rules import market_rule, rule_id, rule_ids
from ibguard.kit.sim.messages import Contract, Error
from sim_recording import Recorder

AAPL = Contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD")


def _ask(
    broker: SimBroker, rec: Recorder, *, start: str, end: str, number: int, what: str
) -> object:
    broker.tick_history.answer(
        broker.session(7), 3, AAPL, start=start, end=end, number=number, what=what, use_rth=True
    )
    broker.flush()
    return rec.messages[-1]


def _broker() -> tuple[SimBroker, Recorder]:
    broker = SimBroker(BrokerConfig(market_prices=True, farm_status_messages=False))
    rec = Recorder()
    broker.connect(7, rec)
    broker.advance(3 * 86400)  # Friday 2024-01-05 09:30 New York
    return broker, rec


def test_ticks_from_a_start_skip_the_closed_market_and_stop_at_ibs_cap() -> None:
    broker, rec = _broker()
    # 15:55 New York on Wednesday: 300 seconds of that session, then Thursday's open
    got = _ask(broker, rec, start="20240103 15:55:00 US/Eastern", end="", number=5000,
               what="TRADES")  # fmt: skip
    assert isinstance(got, HistoricalTicksLast)
    times = [t.time.astimezone(timezone.utc) for t in got.ticks]
    assert len(times) == 1000  # numberOfTicks is capped at 1000
    assert got.done
    assert times == sorted(times)
    wednesday_close = datetime(2024, 1, 3, 21, 0, tzinfo=timezone.utc)
    thursday_open = datetime(2024, 1, 4, 14, 30, tzinfo=timezone.utc)
    assert times[299] == wednesday_close - timedelta(seconds=1)
    assert times[300] == thursday_open  # nothing while the market is closed
    instrument = broker.instruments.by_con_id(265598)
    assert instrument is not None
    quote = broker.market.quote(instrument, times[300])
    assert (got.ticks[300].price, got.ticks[300].size) == (quote.last, quote.last_size)


def test_ticks_up_to_an_end_before_the_open_are_the_last_session_s() -> None:
    broker, rec = _broker()
    got = _ask(broker, rec, start="", end="20240104 08:00:00 US/Eastern", number=3,
               what="TRADES")  # fmt: skip
    assert isinstance(got, HistoricalTicksLast)
    close = datetime(2024, 1, 3, 21, 0, tzinfo=timezone.utc)
    assert [t.time.astimezone(timezone.utc) for t in got.ticks] == [
        close - timedelta(seconds=s) for s in (3, 2, 1)
    ]


def test_ignore_size_keeps_only_the_seconds_the_bid_or_ask_moved() -> None:
    broker, _ = _broker()
    session = broker.session(7)
    answers = []
    for ignore in (False, True):
        rec = Recorder()
        session.listener = rec
        broker.tick_history.answer(session, 4, AAPL, start="20240104 10:00:00 US/Eastern",
                                   end="", number=200, what="BID_ASK", use_rth=True,
                                   ignore_size=ignore)  # fmt: skip
        broker.flush()
        (answer,) = rec.of(HistoricalTicksBidAsk)
        answers.append(answer.ticks)
    every, prices_only = answers
    assert len(prices_only) == 200
    assert all((a.priceBid, a.priceAsk) != (b.priceBid, b.priceAsk)
               for a, b in itertools.pairwise(prices_only))  # fmt: skip
    # a size-only change is a tick without ignoreSize: the unfiltered ticks come denser
    assert every[-1].time < prices_only[-1].time


def test_no_ticks_asked_is_321() -> None:
    broker, rec = _broker()
    got = _ask(broker, rec, start="", end="", number=10, what="MIDPOINT")
    assert isinstance(got, Error)
    assert got.errorCode == 321


def test_rules_are_one_per_valid_exchange_and_answer_the_instruments_tick() -> None:
    assert rule_ids("STK", Decimal("0.01"), "SMART,NASDAQ") == "26,26"
    assert rule_ids("CASH", Decimal("0.00005"), "IDEALPRO") == "239"
    es = rule_id("FUT", Decimal("0.25"))
    assert es >= 100_000
    assert es == rule_id("FUT", Decimal("0.250"))  # the tick's value decides, not its digits
    grids = [("STK", Decimal("0.01")), ("FUT", Decimal("0.25"))]
    rule = market_rule(es, grids)
    assert rule is not None
    assert [(p.lowEdge, p.increment) for p in rule.priceIncrements] == [(0, Decimal("0.25"))]
    assert market_rule(239, grids) is None  # no instrument on that grid here
