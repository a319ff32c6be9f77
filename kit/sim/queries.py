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
from zoneinfo import ZoneInfo

from ibguard.kit.sim.account import Valuer, summary_tags
from ibguard.kit.sim.book import Ledger, SimOrder
from ibguard.kit.sim.clock import VirtualClock
from ibguard.kit.sim.config import BrokerConfig, BrokerState
from ibguard.kit.sim.contracts import ContractBook
from ibguard.kit.sim.delivery import Client, Delivery
from ibguard.kit.sim.ids import IdAllocator
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
    OrderState,
    Position,
    PositionEnd,
)

__all__ = ["Queries"]


class Queries:
    """Handed only what it reads (books, ids, clock, valuation) and delivery for the answers."""

    def __init__(
        self,
        *,
        config: BrokerConfig,
        state: BrokerState,
        clock: VirtualClock,
        ids: IdAllocator,
        contracts: ContractBook,
        ledger: Ledger,
        valuer: Valuer,
        delivery: Delivery,
    ) -> None:
        self._config = config
        self._state = state
        self._clock = clock
        self._ids = ids
        self._contracts = contracts
        self._ledger = ledger
        self._valuer = valuer
        self._delivery = delivery
        self._zone = ZoneInfo(config.tws_time_zone)

    def open_orders(self, session: Client, *, all_clients: bool) -> None:
        cid = session.client_id
        for sim in self._ledger.live_orders():
            own = sim.client_id == cid or (cid == 0 and sim.client_id == 0)
            if all_clients or own or cid == self._config.master_client_id:
                oo = OpenOrder(
                    orderId=sim.order_id,
                    contract=sim.contract,
                    order=sim.to_order(),
                    orderState=sim.to_state(),
                )
                self._delivery.post(session, oo)
                self._delivery.post(session, sim.to_status())
        self._delivery.post(session, OpenOrderEnd())

    def auto_open_orders(self, session: Client, auto_bind: bool) -> None:
        if session.client_id != 0:
            text = (
                "Error validating request:-'bg' : cause - "
                "reqAutoOpenOrders is only valid for client id 0"
            )
            self._delivery.post(session, Error(reqId=-1, errorCode=321, errorString=text))
            return
        session.auto_bind = auto_bind

    def completed_orders(self, session: Client, api_only: bool) -> None:
        since = self._state.day_started_at
        for sim in self._ledger.all_orders():
            if sim.is_live or sim.completed_time is None or sim.completed_time < since:
                continue
            if api_only and sim.client_id == 0:
                continue
            order = replace(sim.to_order(), orderId=0, clientId=0)  # not on the wire
            self._delivery.post(
                session,
                CompletedOrder(
                    contract=sim.contract, order=order, orderState=self._state_in_zone(sim)
                ),
            )
        self._delivery.post(session, CompletedOrdersEnd())

    def _state_in_zone(self, sim: SimOrder) -> OrderState:
        """completedTime as TWS prints it: in TWS's own time zone."""
        state = sim.to_state()
        if state.completedTime is None:
            return state
        return replace(state, completedTime=state.completedTime.astimezone(self._zone))

    def executions(
        self,
        session: Client,
        req_id: int,
        *,
        client_id: int,
        acct_code: str,
        time: datetime | None,
        symbol: str,
        side: str,
    ) -> None:
        cid = session.client_id
        everyone = cid == self._config.master_client_id
        for booked in self._ledger.all_executions(self._state.day_first_exec):
            ex = booked.execution
            # TWS shows a client the executions of its own orders and of manual TWS orders
            # (clientId 0); only the master client sees other API clients' executions. An
            # order injected with broadcast is everyone's.
            own = ex.clientId in (cid, 0)
            if not (everyone or own or self._ledger.is_broadcast(ex.permId)):
                continue
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
            self._delivery.post(
                session, ExecDetails(reqId=req_id, contract=booked.contract, execution=ex)
            )
            self._delivery.post(session, booked.commission)
        self._delivery.post(session, ExecDetailsEnd(reqId=req_id))

    def positions(self, session: Client) -> None:
        for line in self._ledger.positions.values():
            self._delivery.post(
                session,
                Position(
                    account=line.account,
                    contract=line.contract,
                    position=line.position,
                    avgCost=line.average_cost,
                ),
            )
        self._delivery.post(session, PositionEnd())
        session.positions_subscribed = session.live_position_updates

    def current_time(self, session: Client) -> None:
        self._delivery.post(session, CurrentTime(time=self._clock.broker_now()))

    def next_valid_id(self, session: Client) -> None:
        self._delivery.post(
            session, NextValidId(orderId=self._ids.next_order_id(session.client_id))
        )

    def account_updates(self, session: Client, subscribe: bool, acct_code: str) -> None:
        """Account values, one portfolio value per position, the update time, then
        accountDownloadEnd; fills stream updates until unsubscribed."""
        if not subscribe:
            session.account_subscription = None
            session.account_feed = None
            return
        account = acct_code or self._state.accounts[0]
        valued = self._valuer.valuation(account)
        for key, value, currency in valued.values:
            self._delivery.post(
                session,
                AccountValue(key=key, value=value, currency=currency, accountName=account),
            )
        for item in valued.portfolio:
            self._delivery.post(session, item)
        self._delivery.post(session, AccountUpdateTime(time=self._clock.broker_now()))
        self._delivery.post(session, AccountDownloadEnd(accountName=account))
        session.account_subscription = account
        session.account_feed = self._delivery.accounts.subscribe(account, valued.values)

    def account_updates_multi(
        self, session: Client, req_id: int, acct_code: str, model_code: str
    ) -> None:
        """accountUpdateMulti rows of the account (every managed one for "" or "All"), end."""
        wanted = acct_code if acct_code and acct_code.lower() != "all" else ""
        for account in (wanted,) if wanted else self._state.accounts:
            for key, value, currency in self._valuer.valuation(account).values:
                row = AccountUpdateMulti(
                    reqId=req_id,
                    account=account,
                    modelCode=model_code,
                    key=key,
                    value=value,
                    currency=currency,
                )
                self._delivery.post(session, row)
        self._delivery.post(session, AccountUpdateMultiEnd(reqId=req_id))

    def account_summary(self, session: Client, req_id: int, group: str, tags: str) -> None:
        """The asked tags of every managed account (the sim has no groups but "All"), end."""
        wanted = summary_tags(tags)
        for account in self._state.accounts:
            for tag, value, currency in self._valuer.valuation(account).summary(wanted):
                self._delivery.post(
                    session,
                    AccountSummary(
                        reqId=req_id, account=account, tag=tag, value=value, currency=currency
                    ),
                )
        self._delivery.post(session, AccountSummaryEnd(reqId=req_id))

    def contract_details(self, session: Client, req_id: int, contract: Contract) -> None:
        """One contractDetails per listing the contract names (the catalog's details where
        it has the instrument), then the end; none is error 200."""
        listings = self._contracts.matches(contract)
        if not listings:
            text = "No security definition has been found for the request"
            self._delivery.post(session, Error(reqId=req_id, errorCode=200, errorString=text))
            return
        for listing in listings:
            found = listing.contract
            if listing.instrument is not None:
                today = self._clock.broker_now().astimezone(listing.instrument.liquid.zone)
                details = listing.instrument.details(req_id, today.date(), found)
            else:
                details = ContractDetails(
                    reqId=req_id,
                    contract=found,
                    marketName=found.symbol,
                    orderTypes="LMT,MKT",
                    validExchanges="SMART," + (found.primaryExchange or "NYSE"),
                    timeZoneId="US/Eastern",
                    stockType="COMMON" if found.secType == "STK" else "",
                )
            self._delivery.post(session, details)
        self._delivery.post(session, ContractDetailsEnd(reqId=req_id))


def _same_side(wanted: str, side: str) -> bool:
    return {"BUY": "BOT", "SELL": "SLD"}.get(wanted.upper(), wanted.upper()) == side
