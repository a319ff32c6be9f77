"""Serving one decoded client request: the SimBroker call it maps to, or the gateway's own
answer where the sim has nothing to say.

Owns the table request type -> action. SimBroker answers orders, snapshots, ids, time,
contract details and the account (reqAccountUpdates / reqAccountUpdatesMulti /
reqAccountSummary); the gateway answers what the sim has no request for (reqManagedAccts,
reqGlobalCancel),
still through `SimBroker.handle_request` so pacing and the request log see every request.
`UnknownRequest` is logged and ignored, as TWS ignores what it does not serve.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Final
from zoneinfo import ZoneInfo

from ibguard.kit.gateway import inbound as req
from ibguard.kit.gateway.logcodes import GatewayLogCode
from ibguard.kit.gateway.sim_bridge import sim_contract, sim_order
from ibguard.kit.gateway.wire_values import Fields
from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.messages import ManagedAccounts, Message
from ibguard.kit.sim.session import ApiSession

__all__ = ["Reply", "serve_request"]

log = logging.getLogger(__name__)

# Raw frames the gateway answers itself, or sim messages it sends on the broker's behalf.
Reply = Callable[[Fields | Message], None]
_Handler = Callable[[Any, ApiSession, SimBroker, Reply], None]


def _place(r: req.PlaceOrder, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.place_order(r.order_id, sim_contract(r.contract), sim_order(r))


def _executions(r: req.ReqExecutions, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_executions(
        r.req_id,
        client_id=r.client_id,
        acct_code=r.account,
        time=_filter_time(r.time),
        symbol=r.symbol,
        side=r.side,
    )


def _filter_time(raw: str) -> datetime | None:
    """ExecutionFilter.time: ``yyyymmdd hh:mm:ss`` optionally followed by a zone (UTC if none;
    ``yyyymmdd-hh:mm:ss`` is UTC too). Unparseable text means no filter, as TWS ignores it."""
    parts = raw.replace("-", " ", 1).split()
    if len(parts) < 2:
        return None
    zone = parts[2] if len(parts) > 2 else "UTC"
    try:
        when = datetime.strptime(f"{parts[0]} {parts[1]}", "%Y%m%d %H:%M:%S")  # noqa: DTZ007 - zone set below
        return when.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _managed(r: req.ReqManagedAccounts, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    accounts = ManagedAccounts(accountsList=",".join(b.accounts))
    b.handle_request(s, "reqManagedAccts", lambda: reply(accounts))


def _global_cancel(r: req.ReqGlobalCancel, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    def cancel_all() -> None:
        for order in b.live_orders():
            b.desk.cancel_order(order, "Global Cancel")

    b.handle_request(s, "reqGlobalCancel", cancel_all)


def _recorded(name: str) -> _Handler:
    """Requests with no answer (cancel subscriptions): recorded and paced, nothing said."""

    def handle(r: object, s: ApiSession, b: SimBroker, reply: Reply) -> None:
        b.handle_request(s, name, lambda: None)

    return handle


_HANDLERS: Final[dict[type[Any], _Handler]] = {
    req.PlaceOrder: _place,
    req.CancelOrder: lambda r, s, b, reply: s.cancel_order(r.order_id),
    req.ReqOpenOrders: lambda r, s, b, reply: s.req_open_orders(),
    req.ReqAllOpenOrders: lambda r, s, b, reply: s.req_all_open_orders(),
    req.ReqAutoOpenOrders: lambda r, s, b, reply: s.req_auto_open_orders(r.auto_bind),
    req.ReqCompletedOrders: lambda r, s, b, reply: s.req_completed_orders(r.api_only),
    req.ReqExecutions: _executions,
    req.ReqPositions: lambda r, s, b, reply: s.req_positions(),
    req.ReqCurrentTime: lambda r, s, b, reply: s.req_current_time(),
    req.ReqIds: lambda r, s, b, reply: s.req_ids(r.num_ids),
    req.ReqAccountUpdates: lambda r, s, b, reply: s.req_account_updates(r.subscribe, r.account),
    req.ReqContractDetails: lambda r, s, b, reply: s.req_contract_details(
        r.req_id, sim_contract(r.contract)
    ),
    req.ReqAccountUpdatesMulti: lambda r, s, b, reply: s.req_account_updates_multi(
        r.req_id, r.account, r.model_code
    ),
    req.ReqAccountSummary: lambda r, s, b, reply: s.req_account_summary(r.req_id, r.group, r.tags),
    req.ReqManagedAccounts: _managed,
    req.ReqGlobalCancel: _global_cancel,
    req.CancelPositions: lambda r, s, b, reply: s.cancel_positions(),
    req.CancelAccountSummary: _recorded("cancelAccountSummary"),
    req.CancelAccountUpdatesMulti: _recorded("cancelAccountUpdatesMulti"),
}


def serve_request(
    request: req.Request, session: ApiSession, broker: SimBroker, reply: Reply
) -> None:
    """Act on one request of a started session. A second startApi and unknown message ids
    are logged and ignored."""
    handler = _HANDLERS.get(type(request))
    if handler is not None:
        handler(request, session, broker, reply)
        return
    msg_id = request.msg_id if isinstance(request, req.UnknownRequest) else 71
    log.info(
        "ignored request %s from clientId %s",
        type(request).__name__ if msg_id == 71 else f"id {msg_id}",
        session.client_id,
        extra={
            "code": GatewayLogCode.UNKNOWN_REQUEST,
            "client_id": session.client_id,
            "msg_id": msg_id,
        },
    )
