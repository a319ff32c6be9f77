"""Round-trip samples of the P&L, market-rule and historical-tick messages, added to
`samples.SAMPLES` so the round trips and their teeth run them through ib_async, ib_insync,
ibapi 9.81 (as `ibapi_shapes.as_ib_async` maps its calls) and ibapi 10.x at every server
version. Each check reads the wrapper call by attribute name, which the clients share; the
times of historical ticks are compared as epoch seconds (ib_async and ib_insync hand over
datetimes, ibapi the integer)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from ibguard.kit.sim.messages import TwsMessage
from ibguard.kit.sim.pnl import PnL, PnLSingle

from .client_decoders import Call

__all__ = ["PNL_TICK_CHECKS", "PNL_TICK_MESSAGES"]

MAX_DOUBLE = 1.7976931348623157e308

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


PNL_TICK_CHECKS: dict[str, Callable[[Call, int], None]] = {
    "pnl": _call("pnl", 21, -125.5, 310.25, -435.75),
    "pnlSingle": _call("pnlSingle", 22, 300, 42.1, 57.3, -15.2, 55737.3),
    "pnlSingle-unset-realized": _call("pnlSingle", 23, -2, -250, 1250, MAX_DOUBLE, -478325),
}
