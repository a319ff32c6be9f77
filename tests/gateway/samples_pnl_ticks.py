"""Round-trip samples of the P&L, market-rule and historical-tick messages, added to
`samples.SAMPLES` so the round trips and their teeth run them through ib_async, ib_insync,
ibapi 9.81 (as `ibapi_shapes.as_ib_async` maps its calls) and ibapi 10.x at every server
version. Each check reads the wrapper call by attribute name, which the clients share; the
times of historical ticks are compared as epoch seconds (ib_async and ib_insync hand over
datetimes, ibapi the integer)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ibguard.kit.sim import market_messages as mm
from ibguard.kit.sim.messages import TwsMessage
from ibguard.kit.sim.pnl import PnL, PnLSingle

from .client_decoders import Call

__all__ = ["PNL_TICK_CHECKS", "PNL_TICK_MESSAGES"]

MAX_DOUBLE = 1.7976931348623157e308
T1 = datetime(2024, 1, 2, 14, 31, 7, tzinfo=timezone.utc)
T2 = datetime(2024, 1, 2, 14, 31, 8, tzinfo=timezone.utc)
E1, E2 = int(T1.timestamp()), int(T2.timestamp())

PNL_TICK_MESSAGES: dict[str, TwsMessage] = {
    "pnl": PnL(
        reqId=21,
        dailyPnL=Decimal("-125.5"),
        unrealizedPnL=Decimal("310.25"),
        realizedPnL=Decimal("-435.75"),
    ),
    "pnlSingle": PnLSingle(
        reqId=22,
        pos=Decimal(300),
        dailyPnL=Decimal("42.1"),
        unrealizedPnL=Decimal("57.3"),
        realizedPnL=Decimal("-15.2"),
        value=Decimal("55737.3"),
    ),
    "pnlSingle-unset-realized": PnLSingle(
        reqId=23,
        pos=Decimal(-2),
        dailyPnL=Decimal(-250),
        unrealizedPnL=Decimal(1250),
        realizedPnL=None,
        value=Decimal(-478325),
    ),
    "marketRule": mm.MarketRule(
        marketRuleId=26,
        priceIncrements=(
            mm.PriceIncrement(lowEdge=Decimal(0), increment=Decimal("0.0001")),
            mm.PriceIncrement(lowEdge=Decimal(1), increment=Decimal("0.01")),
        ),
    ),
    "historicalTicks": mm.HistoricalTicks(
        reqId=24,
        ticks=(
            mm.HistoricalTick(time=T1, price=Decimal("185.595"), size=Decimal(0)),
            mm.HistoricalTick(time=T2, price=Decimal("185.6"), size=Decimal(0)),
        ),
        done=True,
    ),
    "historicalTicksBidAsk": mm.HistoricalTicksBidAsk(
        reqId=25,
        ticks=(
            mm.HistoricalTickBidAsk(
                time=T1,
                priceBid=Decimal("185.59"),
                priceAsk=Decimal("185.6"),
                sizeBid=Decimal(300),
                sizeAsk=Decimal(400),
                mask=2,
            ),
        ),
        done=False,
    ),
    "historicalTicksLast": mm.HistoricalTicksLast(
        reqId=26,
        ticks=(
            mm.HistoricalTickLast(
                time=T2,
                price=Decimal("185.61"),
                size=Decimal(200),
                exchange="NASDAQ",
                specialConditions="T",
                mask=1,
            ),
        ),
        done=True,
    ),
}


def _epoch(value: Any) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def _call(name: str, *expected: Any) -> Callable[[Call, int], None]:
    """One call of `name` whose arguments equal `expected` as numbers."""

    def check(call: Call, version: int) -> None:
        assert call.name == name, call
        assert len(call.args) == len(expected), call
        for got, want in zip(call.args, expected, strict=True):
            assert type(got) is not bool
            assert got == want, (call, expected)

    return check


def _rule(call: Call, version: int) -> None:
    assert call.name == "marketRule", call
    rule_id, rows = call.args
    assert (rule_id, [(r.lowEdge, r.increment) for r in rows]) == (26, [(0, 0.0001), (1, 0.01)])


def _ticks(name: str, req_id: int, done: bool, *expected: tuple[Any, ...]) -> Callable[..., None]:
    """A tick list: each tick's time as epoch seconds, then its other values by name."""

    def check(call: Call, version: int) -> None:
        assert call.name == name, call
        got_id, ticks, got_done = call.args
        assert (got_id, got_done) == (req_id, done)
        assert [_tick(t) for t in ticks] == list(expected)

    return check


def _tick(t: Any) -> tuple[Any, ...]:
    if hasattr(t, "tickAttribBidAsk"):
        a = t.tickAttribBidAsk
        return (_epoch(t.time), t.priceBid, t.priceAsk, t.sizeBid, t.sizeAsk,
                a.askPastHigh, a.bidPastLow)  # fmt: skip
    if hasattr(t, "tickAttribLast"):
        a = t.tickAttribLast
        return (_epoch(t.time), t.price, t.size, t.exchange, t.specialConditions,
                a.pastLimit, a.unreported)  # fmt: skip
    return (_epoch(t.time), t.price, t.size)


PNL_TICK_CHECKS: dict[str, Callable[[Call, int], None]] = {
    "pnl": _call("pnl", 21, -125.5, 310.25, -435.75),
    "pnlSingle": _call("pnlSingle", 22, 300, 42.1, 57.3, -15.2, 55737.3),
    "pnlSingle-unset-realized": _call("pnlSingle", 23, -2, -250, 1250, MAX_DOUBLE, -478325),
    "marketRule": _rule,
    "historicalTicks": _ticks("historicalTicks", 24, True, (E1, 185.595, 0), (E2, 185.6, 0)),
    "historicalTicksBidAsk": _ticks(
        "historicalTicksBidAsk", 25, False, (E1, 185.59, 185.6, 300, 400, False, True)
    ),
    "historicalTicksLast": _ticks(
        "historicalTicksLast", 26, True, (E2, 185.61, 200, "NASDAQ", "T", True, False)
    ),
}
