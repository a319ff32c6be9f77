"""The order desk of the simulated broker: placing, matching, executing and cancelling.

Owns every state change of an order at the broker and the TWS messages each change
produces, in TWS's order: a new order answers openOrder then orderStatus; an execution
sends openOrder (when the status changes), orderStatus, execDetails (reqId -1), then
commissionReport, then the position and account updates to the sessions subscribed to
them; a cancel answers error 202 then orderStatus Cancelled. Without a script
the desk is a quiet paper account: market orders and marketable limits fill at once in
full at the symbol's price, other limits rest until cancelled or the price comes to them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ibguard.errors import UsageError
from ibguard.kit.sim.account import Valuer
from ibguard.kit.sim.book import BookedExecution, Ledger, SimOrder
from ibguard.kit.sim.brackets import Chains
from ibguard.kit.sim.clock import VirtualClock
from ibguard.kit.sim.config import BrokerConfig, BrokerState
from ibguard.kit.sim.contracts import ContractBook, HaltMode, Listing
from ibguard.kit.sim.delivery import Client, Delivery
from ibguard.kit.sim.ids import MAX_ORDER_ID, IdAllocator, bump_exec_correction
from ibguard.kit.sim.instruments import NO_SECURITY_DEFINITION
from ibguard.kit.sim.messages import (
    CommissionReport,
    Contract,
    Error,
    ExecDetails,
    Execution,
    Message,
    OpenOrder,
    Order,
)
from ibguard.kit.sim.order_checks import check_modify, check_new_order
from ibguard.kit.sim.script import (
    CANCEL_REFUSALS,
    FillPlan,
    LateFillOnCancel,
    RefuseCancel,
    RejectOrder,
    Script,
    SlowCancel,
)
from ibguard.kit.sim.what_if import WhatIfDesk

__all__ = ["OrderDesk"]


class OrderDesk:
    """Handed only what it works with: the books it changes, the ids it allocates, the
    script it follows, and delivery for the messages each change produces."""

    def __init__(
        self,
        *,
        config: BrokerConfig,
        state: BrokerState,
        clock: VirtualClock,
        ids: IdAllocator,
        contracts: ContractBook,
        ledger: Ledger,
        script: Script,
        delivery: Delivery,
        valuer: Valuer,
    ) -> None:
        self._config = config
        self._state = state
        self._clock = clock
        self._ids = ids
        self._contracts = contracts
        self._ledger = ledger
        self._script = script
        self._delivery = delivery
        self._zone = ZoneInfo(config.tws_time_zone)  # TWS's zone for execution times
        self._chains = Chains(ledger)
        self._what_if = WhatIfDesk(config=config, state=state, contracts=contracts, valuer=valuer)

    # --- placeOrder ---------------------------------------------------------------------

    def place(self, session: Client, order_id: int, contract: Contract, order: Order) -> None:
        cid = session.client_id
        if order.whatIf:
            answer = self._what_if.answer(order_id, cid, contract, order)
            self._delivery.post(session, answer)
            return
        if not 1 <= order_id <= MAX_ORDER_ID:
            self._error(
                session,
                order_id,
                321,
                f"Error validating request:-'bO' : cause - Invalid order id: {order_id}",
            )
            return
        if self._ids.is_used_today(cid, order_id):
            live = self._ledger.live_order(cid, order_id)
            if live is not None:  # TWS: placeOrder again with a live order's id modifies it
                self._modify(session, live, order)
                return
            done = self._ledger.latest_order(cid, order_id)
            if done is not None and done.status == "Filled":
                self._error(session, order_id, 104, "Can't modify a filled order.")
                return
            self._error(session, order_id, 103, f"Duplicate order id {order_id}")
            return
        listing = self._contracts.lookup(contract)
        if listing is None:
            self._error(session, order_id, 200, NO_SECURITY_DEFINITION)
            return
        refusal = check_new_order(
            order, sec_type=listing.contract.secType, min_tick=_min_tick(listing)
        )
        if refusal is not None:  # refused before booking: nothing stored, nothing live
            self._error(session, order_id, refusal.code, refusal.text)
            return
        if order.parentId:
            parent = self._ledger.latest_order(cid, order.parentId)
            if parent is None or parent.status in ("Cancelled", "Inactive"):
                self._error(session, order_id, 10006, "Missing parent order.")
                return
        account = order.account or self._state.accounts[0]
        if account not in self._state.accounts:
            self._error(
                session,
                order_id,
                321,
                f"Error validating request:-'bO' : cause - Invalid account code: {account}",
            )
            return
        self._ids.mark_used(cid, order_id)
        sim = SimOrder(
            order_id=order_id,
            client_id=cid,
            perm_id=self._ids.new_perm_id(),
            contract=listing.contract,
            action=order.action,
            quantity=order.totalQuantity,
            order_type=order.orderType,
            lmt_price=order.lmtPrice,
            tif=order.tif,
            account=account,
            order_ref=order.orderRef,
            placed_at=self._clock.broker_now(),
            status=self._config.working_status,
            aux_price=order.auxPrice,
            parent_id=order.parentId,
            oca_group=order.ocaGroup,
            untransmitted=not order.transmit,
        )
        self._ledger.add_order(sim)
        if self._chains.waiting(sim):
            sim.status = "PreSubmitted"  # held at TWS: not working at the exchange yet
        symbol = listing.contract.symbol
        reject = self._script.take(RejectOrder, symbol=symbol, client_id=cid)
        if reject is None and listing.halt is HaltMode.REJECT:
            reject = RejectOrder(
                code=201, text=f"Order rejected - reason:Trading in {symbol} is halted"
            )
        if reject is not None:
            sim.complete("Inactive", self._clock.broker_now(), reject.text)
            self._delivery.post_about(
                sim, Error(reqId=order_id, errorCode=reject.code, errorString=reject.text)
            )
            self._delivery.post_about(sim, sim.to_status())
            return
        if self._fills_before_acknowledgement(sim, order, symbol):
            return
        self._announce(sim)
        if order.transmit:
            self._transmit_chain(sim)
        if self._chains.waiting(sim):
            return
        plan = self._script.take(FillPlan, symbol=symbol, client_id=cid)
        if plan is not None:
            self._play(sim, plan)
        else:
            self._match(sim)

    def _fills_before_acknowledgement(self, sim: SimOrder, order: Order, symbol: str) -> bool:
        """A lone order whose FillPlan says `before_acknowledgement` executes before it is
        announced: its first execDetails precedes any openOrder or orderStatus (LIFE-08)."""
        if not order.transmit or self._chains.waiting(sim):
            return False
        plan = self._script.take(
            FillPlan,
            symbol=symbol,
            client_id=sim.client_id,
            where=lambda rule: rule.before_acknowledgement,
        )
        if plan is None:
            return False
        self._play(sim, plan)  # a fill that changes the status sends openOrder with it
        if sim.is_live:
            self._announce(sim)
        return True

    def _transmit_chain(self, sim: SimOrder) -> None:
        """``sim`` came with transmit=True: the members of its bracket held for it go out;
        those that no longer wait start working."""
        for member in self._chains.untransmitted_chain(sim):
            member.untransmitted = False
            if member is not sim:
                self._start_working(member)

    def _start_working(self, sim: SimOrder) -> None:
        if self._chains.waiting(sim) or not sim.is_live:
            return
        sim.status = self._config.working_status
        self._announce(sim)
        self._match(sim)

    def _modify(self, session: Client, sim: SimOrder, order: Order) -> None:
        """A new price, quantity, type or TIF for a live order: checked as TWS does
        (`order_checks.check_modify`; a refusal leaves the order as it was), announced like
        TWS (openOrder, orderStatus), then matched at the new terms."""
        listing = self._contracts.by_con_id(sim.contract.conId)
        min_tick = _min_tick(listing) if listing is not None else _DEFAULT_TICK
        refusal = check_modify(sim, order, min_tick=min_tick)
        if refusal is not None:
            self._error(session, sim.order_id, refusal.code, refusal.text)
            return
        sim.lmt_price = order.lmtPrice
        sim.quantity = order.totalQuantity
        sim.order_type = order.orderType or sim.order_type
        sim.tif = order.tif or sim.tif
        self._announce(sim)
        self._match(sim)

    def _play(self, sim: SimOrder, plan: FillPlan) -> None:
        last = ""
        for shares, price in plan.fills:
            last = self.execute(sim, shares, price, exec_before_status=plan.exec_before_status)
        if plan.duplicate_last and last:
            self.replay(last)

    def _announce(self, sim: SimOrder) -> None:
        self._delivery.post_about(sim, self._open_order(sim))
        self._delivery.post_about(sim, sim.to_status())

    def _open_order(self, sim: SimOrder) -> OpenOrder:
        return OpenOrder(
            orderId=sim.order_id,
            contract=sim.contract,
            order=sim.to_order(),
            orderState=sim.to_state(),
        )

    # --- matching -----------------------------------------------------------------------

    def _match(self, sim: SimOrder) -> None:
        listing = self._contracts.by_con_id(sim.contract.conId)
        if (
            not self._state.auto_match
            or listing is None
            or listing.halt is not None
            or not sim.is_live
            or self._chains.waiting(sim)
        ):
            return
        price = self._contracts.touch(listing, sim.action)
        marketable = sim.order_type == "MKT" or (
            sim.lmt_price is not None
            and (price <= sim.lmt_price if sim.action == "BUY" else price >= sim.lmt_price)
        )
        if marketable:
            self.execute(sim, sim.remaining, price)
        elif sim.tif == "IOC":
            self.cancel_order(sim, "IOC not marketable")

    def match_resting(self, symbol: str) -> None:
        for sim in self._ledger.live_orders(symbol):
            self._match(sim)

    # --- executions ---------------------------------------------------------------------

    def execute(
        self,
        sim: SimOrder,
        shares: Decimal,
        price: Decimal,
        *,
        time: datetime | None = None,
        exec_before_status: bool = False,
    ) -> str:
        """Book one execution against `sim` and tell whoever hears about it."""
        was = sim.status
        if shares:
            sim.why_held = ""  # it executes: whatever held it is over
            sim.filled += shares
            sim.notional += shares * price
            sim.last_fill_price = price
            signed = shares if sim.action == "BUY" else -shares
            line = self._ledger.position_line(sim.account, sim.contract)
            line.apply(signed, price)
            self._ledger.move_cash(sim.account, -signed * price * line.multiplier)
            if sim.filled >= sim.quantity and (sim.is_live or sim.status == "Cancelled"):
                sim.complete("Filled", self._clock.broker_now())
        execution = Execution(
            execId=self._ids.new_exec_id(),
            time=(time or self._clock.broker_now()).astimezone(self._zone),
            acctNumber=sim.account,
            exchange="ISLAND",
            side="BOT" if sim.action == "BUY" else "SLD",
            shares=shares,
            price=price,
            permId=sim.perm_id,
            clientId=sim.client_id,
            orderId=sim.order_id,
            cumQty=sim.filled,
            avgPrice=sim.avg_fill_price,
            orderRef=sim.order_ref,
            zone_printed=self._config.tws_prints_zone,
        )
        booked = BookedExecution(
            contract=sim.contract, execution=execution, commission=self._commission(execution)
        )
        self._ledger.add_execution(booked)
        if booked.commission.commission:
            self._ledger.move_cash(sim.account, -booked.commission.commission)
        updates: list[Message] = []
        if sim.status != was:
            updates.append(self._open_order(sim))
        if sim.is_live or sim.status != was:
            updates.append(sim.to_status())
        exec_msgs: list[Message] = [
            ExecDetails(reqId=-1, contract=sim.contract, execution=execution),
            booked.commission,
        ]
        for message in exec_msgs + updates if exec_before_status else updates + exec_msgs:
            self._delivery.post_about(sim, message)
        if shares:
            line = self._ledger.position_line(sim.account, sim.contract)
            self._delivery.post_position_update(line)
            self._delivery.post_account_update(line)
            self._after_fill(sim, was)
        return execution.execId

    def _after_fill(self, sim: SimOrder, was: str) -> None:
        """A fill of ``sim``: its OCA group (or its bracket siblings) is cancelled; a parent
        that is now filled sets its children working."""
        for sibling in self._chains.oca_siblings(sim):
            self.cancel_order(sibling, "OCA group")
        if sim.status == "Filled" and was != "Filled":
            for child in self._chains.children_of(sim):
                self._start_working(child)

    def _commission(self, execution: Execution) -> CommissionReport:
        amount = self._config.commission(execution.shares)
        return CommissionReport(execId=execution.execId, commission=amount)

    def replay(self, exec_id: str) -> None:
        booked = self._ledger.execution(exec_id)
        sim = self._ledger.orders[booked.execution.permId]
        self._delivery.post_about(
            sim, ExecDetails(reqId=-1, contract=booked.contract, execution=booked.execution)
        )
        self._delivery.post_about(sim, booked.commission)

    def correct(self, exec_id: str, *, shares: Decimal | None, price: Decimal | None) -> str:
        old = self._ledger.execution(exec_id)
        sim = self._ledger.orders[old.execution.permId]
        new_shares = old.execution.shares if shares is None else shares
        new_price = old.execution.price if price is None else price
        sign = 1 if sim.action == "BUY" else -1
        line = self._ledger.position_line(sim.account, sim.contract)
        line.apply(-sign * old.execution.shares, old.execution.price)
        line.apply(sign * new_shares, new_price)
        self._ledger.move_cash(
            sim.account,
            sign
            * (old.execution.shares * old.execution.price - new_shares * new_price)
            * line.multiplier,
        )
        sim.filled += new_shares - old.execution.shares
        sim.notional += new_shares * new_price - old.execution.shares * old.execution.price
        execution = replace(
            old.execution,
            execId=bump_exec_correction(old.execution.execId),
            shares=new_shares,
            price=new_price,
            cumQty=sim.filled,
            avgPrice=sim.avg_fill_price,
        )
        commission = replace(old.commission, execId=execution.execId)
        self._ledger.add_execution(
            BookedExecution(contract=old.contract, execution=execution, commission=commission)
        )
        self._delivery.post_about(
            sim, ExecDetails(reqId=-1, contract=old.contract, execution=execution)
        )
        self._delivery.post_about(sim, commission)
        self._delivery.post_position_update(line)
        self._delivery.post_account_update(line)
        return execution.execId

    # --- cancelOrder --------------------------------------------------------------------

    def cancel(self, session: Client, order_id: int) -> None:
        sim = self._ledger.live_order(session.client_id, order_id)
        known = sim or self._ledger.latest_order(session.client_id, order_id)
        refused = self._script.take(
            RefuseCancel,
            symbol=known.contract.symbol if known else "",
            client_id=session.client_id,
            where=lambda rule: rule.code != 10148,  # 10148 is the fill's race, below
        )
        if refused is not None:  # the order is left as it is
            perm_id = known.perm_id if known else 0
            text = CANCEL_REFUSALS[refused.code].format(order_id=order_id, perm_id=perm_id)
            self._error(session, order_id, refused.code, text)
            return
        if sim is None:
            known = self._ledger.latest_order(session.client_id, order_id)
            if known is None:
                text = CANCEL_REFUSALS[10147].format(order_id=order_id)
                self._error(session, order_id, 10147, text)
            else:
                self._cannot_cancel(session, known)
            return
        symbol = sim.contract.symbol
        refuse = self._script.take(
            RefuseCancel,
            symbol=symbol,
            client_id=session.client_id,
            where=lambda rule: rule.code == 10148,
        )
        if refuse is not None:
            listing = self._contracts.by_con_id(sim.contract.conId)
            at_market = self._contracts.touch(listing, sim.action) if listing else None
            price = refuse.price or at_market or sim.lmt_price or Decimal(0)
            self.execute(sim, sim.remaining, price)
            self._cannot_cancel(session, sim)
            return
        if self._script.take(SlowCancel, symbol=symbol, client_id=session.client_id) is not None:
            return  # taken; the case confirms it when it wants (cancel_at_broker)
        late = self._script.take(LateFillOnCancel, symbol=symbol, client_id=session.client_id)
        self.cancel_order(sim, "")
        if late is not None:
            when = self._clock.broker_now() - timedelta(seconds=late.seconds_before)
            self.execute(sim, late.shares, late.price, time=when)

    def hold(self, sim: SimOrder, why_held: str, text: str) -> None:
        """The broker holds a live order (error 404, then orderStatus Inactive with
        `why_held`); `why_held=""` releases it (orderStatus Submitted again)."""
        sim.why_held = why_held
        if why_held:
            self._delivery.post_about(
                sim, Error(reqId=sim.order_id, errorCode=404, errorString=text)
            )
        self._delivery.post_about(sim, sim.to_status())

    def _cannot_cancel(self, session: Client, sim: SimOrder) -> None:
        text = CANCEL_REFUSALS[10148].format(order_id=sim.order_id, state=sim.status)
        self._error(session, sim.order_id, 10148, text)

    def cancel_order(self, sim: SimOrder, reason: str) -> None:
        """Cancel a live order: error 202, then orderStatus Cancelled; its children too."""
        sim.complete("Cancelled", self._clock.broker_now(), reason or "Cancelled by Trader")
        self._delivery.post_about(
            sim,
            Error(
                reqId=sim.order_id, errorCode=202, errorString=f"Order Canceled - reason:{reason}"
            ),
        )
        self._delivery.post_about(sim, sim.to_status())
        for child in self._chains.children_of(sim):
            self.cancel_order(child, "parent order cancelled")

    # --- orders the engine did not place ------------------------------------------------

    def inject(
        self,
        *,
        client_id: int,
        symbol: str,
        action: str,
        quantity: Decimal,
        order_type: str,
        lmt_price: Decimal | None,
        tif: str,
        order_ref: str,
        order_id: int | None,
        account: str,
        broadcast: bool,
    ) -> SimOrder:
        listing = self._contracts.resolve(symbol)
        if listing is None:
            raise UsageError(
                f"{symbol} does not resolve (renamed to {self._contracts.renamed_to(symbol)})"
            )
        if order_id is None:
            order_id = self._ids.next_order_id(client_id) if client_id else 0
        if client_id:
            self._ids.mark_used(client_id, order_id)
        sim = SimOrder(
            order_id=order_id,
            client_id=client_id,
            perm_id=self._ids.new_perm_id(),
            contract=listing.contract,
            action=action,
            quantity=quantity,
            order_type=order_type,
            lmt_price=lmt_price,
            tif=tif,
            account=account,
            order_ref=order_ref,
            placed_at=self._clock.broker_now(),
            status=self._config.working_status,
            broadcast=broadcast,
        )
        self._ledger.add_order(sim)
        self._announce(sim)
        return sim

    def _error(self, session: Client, req_id: int, code: int, text: str) -> None:
        self._delivery.post(session, Error(reqId=req_id, errorCode=code, errorString=text))


_DEFAULT_TICK = Decimal("0.01")


def _min_tick(listing: Listing) -> Decimal:
    return listing.instrument.min_tick if listing.instrument is not None else _DEFAULT_TICK
