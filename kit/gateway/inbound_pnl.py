"""P&L subscriptions: reqPnL (92), cancelPnL (93), reqPnLSingle (94), cancelPnLSingle (95).

Wire form as every client writes it (no message version): reqPnL reqId, account, modelCode;
reqPnLSingle adds conId; the cancels carry the reqId. Served by the broker's `PnLDesk`
(`kit/sim/pnl.py`) through `SimBroker.handle_request` (pacing, the request log).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from ibguard.kit.gateway.message_ids import In
from ibguard.kit.gateway.registry import Reply, TwsRequest, decodes, serves
from ibguard.kit.gateway.wire_values import FieldCursor
from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.session import ApiSession

__all__ = ["CancelPnL", "CancelPnLSingle", "ReqPnL", "ReqPnLSingle"]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqPnL(TwsRequest):
    req_id: int
    account: str
    model_code: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelPnL(TwsRequest):
    req_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqPnLSingle(TwsRequest):
    req_id: int
    account: str
    model_code: str
    con_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelPnLSingle(TwsRequest):
    req_id: int


@decodes(In.REQ_PNL)
def read_req_pnl(cur: FieldCursor, version: int) -> ReqPnL:
    return ReqPnL(
        req_id=cur.read_int("reqId"),
        account=cur.read_str("account"),
        model_code=cur.read_str("modelCode"),
    )


@decodes(In.CANCEL_PNL)
def read_cancel_pnl(cur: FieldCursor, version: int) -> CancelPnL:
    return CancelPnL(req_id=cur.read_int("reqId"))


@decodes(In.REQ_PNL_SINGLE)
def read_req_pnl_single(cur: FieldCursor, version: int) -> ReqPnLSingle:
    return ReqPnLSingle(
        req_id=cur.read_int("reqId"),
        account=cur.read_str("account"),
        model_code=cur.read_str("modelCode"),
        con_id=cur.read_int("conId"),
    )


@decodes(In.CANCEL_PNL_SINGLE)
def read_cancel_pnl_single(cur: FieldCursor, version: int) -> CancelPnLSingle:
    return CancelPnLSingle(req_id=cur.read_int("reqId"))


@serves(ReqPnL)
def _pnl(r: ReqPnL, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(
        s, "reqPnL", lambda: b.pnl.subscribe(s, r.req_id, r.account, r.model_code, None)
    )


@serves(CancelPnL)
def _cancel_pnl(r: CancelPnL, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(s, "cancelPnL", lambda: b.pnl.cancel(s, r.req_id))


@serves(ReqPnLSingle)
def _pnl_single(r: ReqPnLSingle, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(
        s,
        "reqPnLSingle",
        lambda: b.pnl.subscribe(s, r.req_id, r.account, r.model_code, r.con_id),
    )


@serves(CancelPnLSingle)
def _cancel_pnl_single(r: CancelPnLSingle, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(s, "cancelPnLSingle", lambda: b.pnl.cancel(s, r.req_id))
