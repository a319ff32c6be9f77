"""Snapshot requests at the simulated broker: what TWS answers when a client asks.

Owns the answers to reqOpenOrders / reqAllOpenOrders / reqAutoOpenOrders,
reqCompletedOrders, reqExecutions, reqPositions, reqCurrentTime, reqIds,
reqAccountUpdates / reqAccountUpdatesMulti / reqAccountSummary (valued by `account.py`)
and reqContractDetails. Invariants: every answer ends with its end
message (a missing end message costs a real client its whole timeout); snapshot answers
go only to the asking session and ignore stalls; each openOrder in an answer is followed
by its orderStatus; each execDetails by its commissionReport.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ibguard.kit.sim.account import summary_tags, valuation
from ibguard.kit.sim.messages import (
    AccountDownloadEnd,
    AccountSummary,
    AccountSummaryEnd,
    AccountUpdateMulti,
    AccountUpdateMultiEnd,
    AccountUpdateTime,
    AccountValue,
    CompletedOrder,
    CompletedOrdersEnd,
    Contract,
    ContractDetails,
    ContractDetailsEnd,
    CurrentTime,
    Error,
    ExecDetails,
    ExecDetailsEnd,
    NextValidId,
    OpenOrder,
    OpenOrderEnd,
    Position,
    PositionEnd,
)

if TYPE_CHECKING:
    from ibguard.kit.sim.broker import SimBroker
    from ibguard.kit.sim.session import ApiSession

__all__ = ["Queries"]


class Queries:
    def __init__(self, broker: SimBroker) -> None:
        self._b = broker

    def open_orders(self, session: ApiSession, *, all_clients: bool) -> None:
        cid = session.client_id
        for sim in self._b.ledger.live_orders():
            own = sim.client_id == cid or (cid == 0 and sim.client_id == 0)
            if all_clients or own or cid == self._b.config.master_client_id:
                oo = OpenOrder(
                    orderId=sim.order_id,
                    contract=sim.contract,
                    order=sim.to_order(),
                    orderState=sim.to_state(),
                )
                self._b.post(session, oo)
                self._b.post(session, sim.to_status())
        self._b.post(session, OpenOrderEnd())

    def auto_open_orders(self, session: ApiSession, auto_bind: bool) -> None:
        if session.client_id != 0:
            text = (
                "Error validating request:-'bg' : cause - "
                "reqAutoOpenOrders is only valid for client id 0"
            )
            self._b.post(session, Error(reqId=-1, errorCode=321, errorString=text))
            return
        session.auto_bind = auto_bind

    def completed_orders(self, session: ApiSession, api_only: bool) -> None:
        since = self._b.day_started_at
        for sim in self._b.ledger.orders.values():
            if sim.is_live or sim.completed_time is None or sim.completed_time < since:
                continue
            if api_only and sim.client_id == 0:
                continue
            order = replace(sim.to_order(), orderId=0, clientId=0)  # not on the wire
            self._b.post(
                session,
                CompletedOrder(contract=sim.contract, order=order, orderState=sim.to_state()),
            )
        self._b.post(session, CompletedOrdersEnd())

    def executions(
        self,
        session: ApiSession,
        req_id: int,
        *,
        client_id: int,
        acct_code: str,
        time: datetime | None,
        symbol: str,
        side: str,
    ) -> None:
        for booked in self._b.ledger.executions[self._b.day_first_exec :]:
            ex = booked.execution
            if client_id and ex.clientId != client_id:
                continue
            if acct_code and ex.acctNumber != acct_code:
                continue
            if time is not None and ex.time < time:
                continue
            if symbol and booked.contract.symbol != symbol:
                continue
            if side and not _same_side(side, ex.side):
                continue
            self._b.post(session, ExecDetails(reqId=req_id, contract=booked.contract, execution=ex))
            self._b.post(session, booked.commission)
        self._b.post(session, ExecDetailsEnd(reqId=req_id))

    def positions(self, session: ApiSession) -> None:
        for line in self._b.ledger.positions.values():
            self._b.post(
                session,
                Position(
                    account=line.account,
                    contract=line.contract,
                    position=line.position,
                    avgCost=line.avg_cost,
                ),
            )
        self._b.post(session, PositionEnd())
        session.positions_subscribed = session.live_position_updates

    def current_time(self, session: ApiSession) -> None:
        self._b.post(session, CurrentTime(time=self._b.clock.broker_now()))

    def next_valid_id(self, session: ApiSession) -> None:
        self._b.post(session, NextValidId(orderId=self._b.ids.next_order_id(session.client_id)))

    def account_updates(self, session: ApiSession, subscribe: bool, acct_code: str) -> None:
        """Account values, one portfolio value per position, the update time, then
        accountDownloadEnd; fills stream updates until unsubscribed."""
        if not subscribe:
            session.account_subscription = None
            return
        account = acct_code or self._b.accounts[0]
        valued = valuation(self._b, account)
        for key, value, currency in valued.values:
            self._b.post(
                session,
                AccountValue(key=key, value=value, currency=currency, accountName=account),
            )
        for item in valued.portfolio:
            self._b.post(session, item)
        self._b.post(session, AccountUpdateTime(time=self._b.clock.broker_now()))
        self._b.post(session, AccountDownloadEnd(accountName=account))
        session.account_subscription = account

    def account_updates_multi(
        self, session: ApiSession, req_id: int, acct_code: str, model_code: str
    ) -> None:
        """accountUpdateMulti rows of the account (every managed one for "" or "All"), end."""
        wanted = acct_code if acct_code and acct_code.lower() != "all" else ""
        for account in (wanted,) if wanted else self._b.accounts:
            for key, value, currency in valuation(self._b, account).values:
                row = AccountUpdateMulti(
                    reqId=req_id,
                    account=account,
                    modelCode=model_code,
                    key=key,
                    value=value,
                    currency=currency,
                )
                self._b.post(session, row)
        self._b.post(session, AccountUpdateMultiEnd(reqId=req_id))

    def account_summary(self, session: ApiSession, req_id: int, group: str, tags: str) -> None:
        """The asked tags of every managed account (the sim has no groups but "All"), end."""
        wanted = summary_tags(tags)
        for account in self._b.accounts:
            for tag, value, currency in valuation(self._b, account).summary(wanted):
                self._b.post(
                    session,
                    AccountSummary(
                        reqId=req_id, account=account, tag=tag, value=value, currency=currency
                    ),
                )
        self._b.post(session, AccountSummaryEnd(reqId=req_id))

    def contract_details(self, session: ApiSession, req_id: int, contract: Contract) -> None:
        book = self._b.contracts
        listing = book.by_con_id(contract.conId) if contract.conId else None
        if listing is None and contract.symbol:
            listing = book.resolve(contract.symbol, contract.secType, contract.currency)
        if listing is None:
            text = "No security definition has been found for the request"
            self._b.post(session, Error(reqId=req_id, errorCode=200, errorString=text))
            return
        details = ContractDetails(
            reqId=req_id, contract=listing.contract, marketName=listing.contract.symbol
        )
        self._b.post(session, details)
        self._b.post(session, ContractDetailsEnd(reqId=req_id))


def _same_side(wanted: str, side: str) -> bool:
    return {"BUY": "BOT", "SELL": "SLD"}.get(wanted.upper(), wanted.upper()) == side
