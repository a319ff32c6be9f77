"""Client-to-server requests: one frozen dataclass per request the gateway serves, and
its decoder, registered per message id with `registry.decodes`.

Covers what ib_async / ib_insync send during connect, disconnect and ordinary trading.
`registry.decode_request` turns a frame's fields into one: a message id the gateway does not
know becomes `UnknownRequest`; a known request whose fields do not parse raises
`PeerProtocolError`. Leading message version fields are read and not checked: the clients send
fixed ones per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar, final

from ibguard.kit.gateway.errors import RequestRefused
from ibguard.kit.gateway.inbound_order import PlaceOrder, read_contract
from ibguard.kit.gateway.message_ids import In
from ibguard.kit.gateway.registry import TwsRequest, UnknownRequest, decode_request, decodes
from ibguard.kit.gateway.wire_values import FieldCursor
from ibguard.kit.sim.messages import Contract

__all__ = [
    "CancelAccountSummary",
    "CancelAccountUpdatesMulti",
    "CancelOrder",
    "CancelPositions",
    "PlaceOrder",
    "ReqAccountSummary",
    "ReqAccountUpdates",
    "ReqAccountUpdatesMulti",
    "ReqAllOpenOrders",
    "ReqAutoOpenOrders",
    "ReqCompletedOrders",
    "ReqContractDetails",
    "ReqCurrentTime",
    "ReqExecutions",
    "ReqGlobalCancel",
    "ReqIds",
    "ReqManagedAccounts",
    "ReqOpenOrders",
    "ReqPositions",
    "Request",
    "StartApi",
    "UnknownRequest",
    "decode_request",
]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class StartApi(TwsRequest):
    client_id: int
    optional_capabilities: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder(TwsRequest):
    order_id: int
    manual_cancel_order_time: str  # from server version 169


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqOpenOrders(TwsRequest):
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqAllOpenOrders(TwsRequest):
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqAutoOpenOrders(TwsRequest):
    auto_bind: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqExecutions(TwsRequest):
    req_id: int
    client_id: int  # filter; 0 matches all
    account: str
    time: str
    symbol: str
    sec_type: str
    exchange: str
    side: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqIds(TwsRequest):
    num_ids: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqContractDetails(TwsRequest):
    req_id: int
    contract: Contract
    include_expired: bool
    issuer_id: str  # from server version 176


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqAccountUpdates(TwsRequest):
    subscribe: bool
    account: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqAccountUpdatesMulti(TwsRequest):
    req_id: int
    account: str
    model_code: str
    ledger_and_nlv: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAccountUpdatesMulti(TwsRequest):
    req_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqAccountSummary(TwsRequest):
    req_id: int
    group: str
    tags: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAccountSummary(TwsRequest):
    req_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqPositions(TwsRequest):
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelPositions(TwsRequest):
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqCurrentTime(TwsRequest):
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqCompletedOrders(TwsRequest):
    api_only: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqGlobalCancel(TwsRequest):
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqManagedAccounts(TwsRequest):
    pass


Request = TwsRequest


def _versioned(cur: FieldCursor) -> FieldCursor:
    cur.skip("message version")
    return cur


@decodes(In.START_API)
def read_start_api(cur: FieldCursor, version: int) -> StartApi:
    """A clientId TWS cannot take is refused and the socket closed: beyond Java's int it
    cannot be read (320), a negative one is not valid (321)."""
    _versioned(cur)
    client_id = cur.read_int("clientId")
    if client_id < 0:
        text = f"Error validating request:-'bs' : cause - Invalid client id: {client_id}"
        raise RequestRefused(-1, 321, text, fatal=True)
    return StartApi(client_id=client_id, optional_capabilities=cur.read_str("optCapab"))


@decodes(In.CANCEL_ORDER)
def read_cancel_order(cur: FieldCursor, version: int) -> CancelOrder:
    _versioned(cur)
    order_id = cur.read_int("orderId")
    manual = cur.read_str("manualCancelOrderTime") if version >= 169 else ""
    return CancelOrder(order_id=order_id, manual_cancel_order_time=manual)


@decodes(In.REQ_EXECUTIONS)
def read_req_executions(cur: FieldCursor, version: int) -> ReqExecutions:
    _versioned(cur)
    return ReqExecutions(
        req_id=cur.read_request_id("reqId"),
        client_id=cur.read_int("clientId"),
        account=cur.read_str("acctCode"),
        time=cur.read_str("time"),
        symbol=cur.read_str("symbol"),
        sec_type=cur.read_str("secType"),
        exchange=cur.read_str("exchange"),
        side=cur.read_str("side"),
    )


@decodes(In.REQ_CONTRACT_DATA)
def read_req_contract_details(cur: FieldCursor, version: int) -> ReqContractDetails:
    _versioned(cur)
    req_id = cur.read_request_id("reqId")
    contract = read_contract(cur, with_sec_id=False)
    include_expired = cur.read_bool("includeExpired")
    contract = replace(contract, secIdType=cur.read_str("secIdType"), secId=cur.read_str("secId"))
    issuer_id = cur.read_str("issuerId") if version >= 176 else ""
    return ReqContractDetails(
        req_id=req_id, contract=contract, include_expired=include_expired, issuer_id=issuer_id
    )


@decodes(In.REQ_AUTO_OPEN_ORDERS)
def read_req_auto_open_orders(cur: FieldCursor, version: int) -> ReqAutoOpenOrders:
    return ReqAutoOpenOrders(auto_bind=_versioned(cur).read_bool("bAutoBind"))


@decodes(In.REQ_IDS)
def read_req_ids(cur: FieldCursor, version: int) -> ReqIds:
    return ReqIds(num_ids=_versioned(cur).read_int("numIds"))


@decodes(In.REQ_ACCOUNT_UPDATES)
def read_req_account_updates(cur: FieldCursor, version: int) -> ReqAccountUpdates:
    return ReqAccountUpdates(
        subscribe=_versioned(cur).read_bool("subscribe"), account=cur.read_str("acctCode")
    )


@decodes(In.REQ_ACCOUNT_UPDATES_MULTI)
def read_req_account_updates_multi(cur: FieldCursor, version: int) -> ReqAccountUpdatesMulti:
    return ReqAccountUpdatesMulti(
        req_id=_versioned(cur).read_int("reqId"),
        account=cur.read_str("account"),
        model_code=cur.read_str("modelCode"),
        ledger_and_nlv=cur.read_bool("ledgerAndNLV"),
    )


@decodes(In.CANCEL_ACCOUNT_UPDATES_MULTI)
def read_cancel_account_updates_multi(cur: FieldCursor, version: int) -> CancelAccountUpdatesMulti:
    return CancelAccountUpdatesMulti(req_id=_versioned(cur).read_int("reqId"))


@decodes(In.REQ_ACCOUNT_SUMMARY)
def read_req_account_summary(cur: FieldCursor, version: int) -> ReqAccountSummary:
    return ReqAccountSummary(
        req_id=_versioned(cur).read_int("reqId"),
        group=cur.read_str("groupName"),
        tags=cur.read_str("tags"),
    )


@decodes(In.CANCEL_ACCOUNT_SUMMARY)
def read_cancel_account_summary(cur: FieldCursor, version: int) -> CancelAccountSummary:
    return CancelAccountSummary(req_id=_versioned(cur).read_int("reqId"))


@decodes(In.REQ_COMPLETED_ORDERS)
def read_req_completed_orders(cur: FieldCursor, version: int) -> ReqCompletedOrders:
    # reqCompletedOrders carries no version field.
    return ReqCompletedOrders(api_only=cur.read_bool("apiOnly"))


_R = TypeVar("_R", bound=TwsRequest)


def _version_only(msg_id: In, cls: Callable[[], _R]) -> None:
    """Register a request that is only its id and a version field."""

    def read(cur: FieldCursor, version: int) -> _R:
        _versioned(cur)
        return cls()

    decodes(msg_id)(read)


_version_only(In.REQ_OPEN_ORDERS, ReqOpenOrders)
_version_only(In.REQ_ALL_OPEN_ORDERS, ReqAllOpenOrders)
_version_only(In.REQ_POSITIONS, ReqPositions)
_version_only(In.CANCEL_POSITIONS, CancelPositions)
_version_only(In.REQ_CURRENT_TIME, ReqCurrentTime)
_version_only(In.REQ_GLOBAL_CANCEL, ReqGlobalCancel)
_version_only(In.REQ_MANAGED_ACCTS, ReqManagedAccounts)
