"""Client-to-server requests: one frozen dataclass per request the gateway serves, and
`decode_request(fields, server_version)` to turn a frame's fields into one.

Covers what ib_async / ib_insync send during connect, disconnect and ordinary trading. A
message id the gateway does not know becomes `UnknownRequest` (the server answers it or ignores
it); a known request whose fields do not parse raises `PeerProtocolError`. Leading message
version fields are read and not checked: the clients send fixed ones per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import final

from ibguard.kit.gateway.errors import PeerProtocolError
from ibguard.kit.gateway.inbound_order import PlaceOrder, read_contract, read_place_order
from ibguard.kit.gateway.message_ids import In
from ibguard.kit.gateway.payloads import Contract
from ibguard.kit.gateway.wire_values import FieldCursor

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
class StartApi:
    client_id: int
    optional_capabilities: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder:
    order_id: int
    manual_cancel_order_time: str  # from server version 169


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqOpenOrders:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqAllOpenOrders:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqAutoOpenOrders:
    auto_bind: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqExecutions:
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
class ReqIds:
    num_ids: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqContractDetails:
    req_id: int
    contract: Contract
    include_expired: bool
    issuer_id: str  # from server version 176


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqAccountUpdates:
    subscribe: bool
    account: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqAccountUpdatesMulti:
    req_id: int
    account: str
    model_code: str
    ledger_and_nlv: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAccountUpdatesMulti:
    req_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqAccountSummary:
    req_id: int
    group: str
    tags: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAccountSummary:
    req_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqPositions:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelPositions:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqCurrentTime:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqCompletedOrders:
    api_only: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqGlobalCancel:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqManagedAccounts:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownRequest:
    msg_id: int
    fields: tuple[str, ...]  # everything after the message id


Request = (
    StartApi
    | PlaceOrder
    | CancelOrder
    | ReqOpenOrders
    | ReqAllOpenOrders
    | ReqAutoOpenOrders
    | ReqExecutions
    | ReqIds
    | ReqContractDetails
    | ReqAccountUpdates
    | ReqAccountUpdatesMulti
    | CancelAccountUpdatesMulti
    | ReqAccountSummary
    | CancelAccountSummary
    | ReqPositions
    | CancelPositions
    | ReqCurrentTime
    | ReqCompletedOrders
    | ReqGlobalCancel
    | ReqManagedAccounts
    | UnknownRequest
)


def _versioned(cur: FieldCursor) -> FieldCursor:
    cur.skip("message version")
    return cur


def _start_api(cur: FieldCursor, version: int) -> StartApi:
    _versioned(cur)
    return StartApi(
        client_id=cur.read_int("clientId"), optional_capabilities=cur.read_str("optCapab")
    )


def _cancel_order(cur: FieldCursor, version: int) -> CancelOrder:
    _versioned(cur)
    order_id = cur.read_int("orderId")
    manual = cur.read_str("manualCancelOrderTime") if version >= 169 else ""
    return CancelOrder(order_id=order_id, manual_cancel_order_time=manual)


def _req_executions(cur: FieldCursor, version: int) -> ReqExecutions:
    _versioned(cur)
    return ReqExecutions(
        req_id=cur.read_int("reqId"),
        client_id=cur.read_int("clientId"),
        account=cur.read_str("acctCode"),
        time=cur.read_str("time"),
        symbol=cur.read_str("symbol"),
        sec_type=cur.read_str("secType"),
        exchange=cur.read_str("exchange"),
        side=cur.read_str("side"),
    )


def _req_contract_details(cur: FieldCursor, version: int) -> ReqContractDetails:
    _versioned(cur)
    req_id = cur.read_int("reqId")
    contract = read_contract(cur, with_sec_id=False)
    include_expired = cur.read_bool("includeExpired")
    contract = replace(
        contract, sec_id_type=cur.read_str("secIdType"), sec_id=cur.read_str("secId")
    )
    issuer_id = cur.read_str("issuerId") if version >= 176 else ""
    return ReqContractDetails(
        req_id=req_id, contract=contract, include_expired=include_expired, issuer_id=issuer_id
    )


def _simple(cls: Callable[[], Request]) -> Callable[[FieldCursor, int], Request]:
    def decode(cur: FieldCursor, version: int) -> Request:
        _versioned(cur)
        return cls()

    return decode


_DECODERS: dict[int, Callable[[FieldCursor, int], Request]] = {
    In.START_API: _start_api,
    In.PLACE_ORDER: read_place_order,
    In.CANCEL_ORDER: _cancel_order,
    In.REQ_OPEN_ORDERS: _simple(ReqOpenOrders),
    In.REQ_ALL_OPEN_ORDERS: _simple(ReqAllOpenOrders),
    In.REQ_AUTO_OPEN_ORDERS: lambda cur, v: ReqAutoOpenOrders(
        auto_bind=_versioned(cur).read_bool("bAutoBind")
    ),
    In.REQ_EXECUTIONS: _req_executions,
    In.REQ_IDS: lambda cur, v: ReqIds(num_ids=_versioned(cur).read_int("numIds")),
    In.REQ_CONTRACT_DATA: _req_contract_details,
    In.REQ_ACCOUNT_UPDATES: lambda cur, v: ReqAccountUpdates(
        subscribe=_versioned(cur).read_bool("subscribe"), account=cur.read_str("acctCode")
    ),
    In.REQ_ACCOUNT_UPDATES_MULTI: lambda cur, v: ReqAccountUpdatesMulti(
        req_id=_versioned(cur).read_int("reqId"),
        account=cur.read_str("account"),
        model_code=cur.read_str("modelCode"),
        ledger_and_nlv=cur.read_bool("ledgerAndNLV"),
    ),
    In.CANCEL_ACCOUNT_UPDATES_MULTI: lambda cur, v: CancelAccountUpdatesMulti(
        req_id=_versioned(cur).read_int("reqId")
    ),
    In.REQ_ACCOUNT_SUMMARY: lambda cur, v: ReqAccountSummary(
        req_id=_versioned(cur).read_int("reqId"),
        group=cur.read_str("groupName"),
        tags=cur.read_str("tags"),
    ),
    In.CANCEL_ACCOUNT_SUMMARY: lambda cur, v: CancelAccountSummary(
        req_id=_versioned(cur).read_int("reqId")
    ),
    In.REQ_POSITIONS: _simple(ReqPositions),
    In.CANCEL_POSITIONS: _simple(CancelPositions),
    In.REQ_CURRENT_TIME: _simple(ReqCurrentTime),
    # reqCompletedOrders carries no version field.
    In.REQ_COMPLETED_ORDERS: lambda cur, v: ReqCompletedOrders(api_only=cur.read_bool("apiOnly")),
    In.REQ_GLOBAL_CANCEL: _simple(ReqGlobalCancel),
    In.REQ_MANAGED_ACCTS: _simple(ReqManagedAccounts),
}


def decode_request(fields: Sequence[str], server_version: int) -> Request:
    """One client frame's fields (message id first) as a request."""
    if not fields:
        raise PeerProtocolError("empty request")
    try:
        msg_id = int(fields[0])
    except ValueError:
        raise PeerProtocolError(f"message id is not an integer: {fields[0]!r}") from None
    decoder = _DECODERS.get(msg_id)
    if decoder is None:
        return UnknownRequest(msg_id=msg_id, fields=tuple(fields[1:]))
    cur = FieldCursor(fields)
    request = decoder(cur, server_version)
    cur.finish(type(request).__name__)
    return request
