"""Serving one decoded client request: the SimBroker call it maps to, or the gateway's own
answer where the sim has nothing to say.

Each handler is registered for its request type with `registry.serves`. SimBroker answers
orders, snapshots, ids, time, contract details and the account (reqAccountUpdates /
reqAccountUpdatesMulti / reqAccountSummary); the gateway answers what the sim has no request
for (reqManagedAccts, reqGlobalCancel), still through `SimBroker.handle_request` so pacing and
the request log see every request. A request without a handler is answered with ibguard's
documented error and logged at WARNING with its name (`unserved`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from ibguard.kit.gateway import inbound as req
from ibguard.kit.gateway.logcodes import GatewayLogCode
from ibguard.kit.gateway.registry import Reply, TwsRequest, handler_for, serves
from ibguard.kit.gateway.unserved import UNSERVED_CODE, describe, refusal_text
from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.messages import Contract, Error, ManagedAccounts
from ibguard.kit.sim.session import ApiSession

__all__ = ["Reply", "serve_request"]

log = logging.getLogger(__name__)


def with_ib_defaults(c: Contract) -> Contract:
    """A client's contract as the sim resolves it: empty fields take IB's defaults."""
    return replace(
        c,
        secType=c.secType or "STK",
        exchange=c.exchange or "SMART",
        currency=c.currency or "USD",
    )


@serves(req.PlaceOrder)
def _place(r: req.PlaceOrder, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    order = replace(r.order, tif=r.order.tif or "DAY")
    s.place_order(r.order_id, with_ib_defaults(r.contract), order)


@serves(req.CancelOrder)
def _cancel(r: req.CancelOrder, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.cancel_order(r.order_id)


@serves(req.ReqOpenOrders)
def _open_orders(r: req.ReqOpenOrders, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_open_orders()


@serves(req.ReqAllOpenOrders)
def _all_open_orders(r: req.ReqAllOpenOrders, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_all_open_orders()


@serves(req.ReqAutoOpenOrders)
def _auto_open(r: req.ReqAutoOpenOrders, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_auto_open_orders(r.auto_bind)


@serves(req.ReqCompletedOrders)
def _completed(r: req.ReqCompletedOrders, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_completed_orders(r.api_only)


@serves(req.ReqExecutions)
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


@serves(req.ReqPositions)
def _positions(r: req.ReqPositions, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_positions()


@serves(req.CancelPositions)
def _cancel_positions(r: req.CancelPositions, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.cancel_positions()


@serves(req.ReqCurrentTime)
def _current_time(r: req.ReqCurrentTime, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_current_time()


@serves(req.ReqIds)
def _ids(r: req.ReqIds, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_ids(r.num_ids)


@serves(req.ReqAccountUpdates)
def _account(r: req.ReqAccountUpdates, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_account_updates(r.subscribe, r.account)


@serves(req.ReqContractDetails)
def _details(r: req.ReqContractDetails, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_contract_details(r.req_id, with_ib_defaults(r.contract))


@serves(req.ReqAccountUpdatesMulti)
def _account_multi(
    r: req.ReqAccountUpdatesMulti, s: ApiSession, b: SimBroker, reply: Reply
) -> None:
    s.req_account_updates_multi(r.req_id, r.account, r.model_code)


@serves(req.ReqAccountSummary)
def _summary(r: req.ReqAccountSummary, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    s.req_account_summary(r.req_id, r.group, r.tags)


@serves(req.ReqManagedAccounts)
def _managed(r: req.ReqManagedAccounts, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    accounts = ManagedAccounts(accountsList=",".join(b.accounts))
    b.handle_request(s, "reqManagedAccts", lambda: reply(accounts))


@serves(req.ReqGlobalCancel)
def _global_cancel(r: req.ReqGlobalCancel, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    def cancel_all() -> None:
        for order in b.live_orders():
            b.desk.cancel_order(order, "Global Cancel")

    b.handle_request(s, "reqGlobalCancel", cancel_all)


@serves(req.CancelAccountSummary)
def _cancel_summary(r: req.CancelAccountSummary, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    # no answer: recorded and paced, nothing said
    b.handle_request(s, "cancelAccountSummary", lambda: None)


@serves(req.CancelAccountUpdatesMulti)
def _cancel_multi(
    r: req.CancelAccountUpdatesMulti, s: ApiSession, b: SimBroker, reply: Reply
) -> None:
    b.handle_request(s, "cancelAccountUpdatesMulti", lambda: None)


def serve_request(
    request: TwsRequest, session: ApiSession, broker: SimBroker, reply: Reply
) -> None:
    """Act on one request of a started session. A second startApi is ignored, as TWS does;
    a request the gateway does not serve is answered with ibguard's documented error for its
    request id and logged at WARNING with its name (`unserved`)."""
    handler = handler_for(request)
    if handler is not None:
        handler(request, session, broker, reply)
        return
    if not isinstance(request, req.UnknownRequest):
        log.info(
            "ignored request %s from clientId %s",
            type(request).__name__,
            session.client_id,
            extra={"code": GatewayLogCode.UNKNOWN_REQUEST, "client_id": session.client_id},
        )
        return
    unserved = describe(request.msg_id, request.fields)
    log.warning(
        "not served: %s (message id %s) from clientId %s",
        unserved.name,
        unserved.msg_id,
        session.client_id,
        extra={
            "code": GatewayLogCode.UNKNOWN_REQUEST,
            "client_id": session.client_id,
            "msg_id": unserved.msg_id,
            "request": unserved.name,
        },
    )
    if not unserved.answered:
        broker.handle_request(session, unserved.name, lambda: None)
        return
    error = Error(
        reqId=unserved.req_id, errorCode=UNSERVED_CODE, errorString=refusal_text(unserved)
    )
    broker.handle_request(session, unserved.name, lambda: reply(error))
