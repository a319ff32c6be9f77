"""P&L on the wire: pnl (94) and pnlSingle (95).

Layouts as the clients read them: no message version; pnl is reqId, dailyPnL,
unrealizedPnL, realizedPnL; pnlSingle is reqId, pos, dailyPnL, unrealizedPnL, realizedPnL,
value. IBKR's decoders (ibapi 9.81 and 10.x) read unrealizedPnL from server version 129
(MIN_SERVER_VER_UNREALIZED_PNL) and realizedPnL from 135 (MIN_SERVER_VER_REALIZED_PNL);
ib_async and ib_insync always read all of them. Every version the gateway speaks (157..178) is
above both gates, so all fields are always sent. ibapi 9.81 reads pos as an int: positions are
whole numbers here. An unset realizedPnL (a position not traded today) is Double.MAX_VALUE.
"""

from __future__ import annotations

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.registry import encodes
from ibguard.kit.gateway.wire_values import Fields, double, text
from ibguard.kit.sim.pnl import PnL, PnLSingle

__all__: list[str] = []


@encodes(PnL, Out.PNL)
def encode_pnl(m: PnL, server_version: int) -> Fields:
    return (
        text(Out.PNL),
        text(m.reqId),
        text(m.dailyPnL),
        text(m.unrealizedPnL),
        text(m.realizedPnL),
    )


@encodes(PnLSingle, Out.PNL_SINGLE)
def encode_pnl_single(m: PnLSingle, server_version: int) -> Fields:
    return (
        text(Out.PNL_SINGLE),
        text(m.reqId),
        text(m.pos),
        text(m.dailyPnL),
        text(m.unrealizedPnL),
        double(m.realizedPnL),
        text(m.value),
    )
