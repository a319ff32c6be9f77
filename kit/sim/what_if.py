"""The answer to a whatIf placeOrder: an openOrder whose OrderState carries the margins.

Owns the two ways the broker answers: computed from the account (the default) or scripted
(`WhatIfAnswer`, set by a case such as FAIL-07 or by `SimBroker.set_what_if`). Computed: the
order's contract must exist (else error 200, as for a real order) and pass the checks of a
new order; the trade it describes (buy > 0) at the price it would trade at now (the touch;
a limit order at its limit when that is better than the touch) with its commission is
valued by `Valuer.what_if` (the Reg T model of `margins.py`) and reported before / change /
after, to the cent. An order that would leave equity with loan below the initial margin
is still answered with its numbers, plus TWS's rejection text in warningText (TWS's
wording for a real order refused for margin; docs/margins.md). Nothing is booked: no
order id is used and no order, execution or position changes.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Final

from ibguard.kit.sim.account import Valuer
from ibguard.kit.sim.config import BrokerConfig, BrokerState, WhatIfAnswer
from ibguard.kit.sim.contracts import ContractBook, Listing
from ibguard.kit.sim.instruments import NO_SECURITY_DEFINITION
from ibguard.kit.sim.margins import Trade, WhatIf
from ibguard.kit.sim.messages import Contract, Error, Message, OpenOrder, Order, OrderState
from ibguard.kit.sim.order_checks import check_new_order

__all__ = ["WhatIfDesk", "insufficient_margin_text"]

_CENT: Final = Decimal("0.01")
_DEFAULT_TICK: Final = Decimal("0.01")


def insufficient_margin_text(equity_with_loan: Decimal, initial: Decimal, currency: str) -> str:
    """TWS's reason for refusing an order for margin (error 201's text after its prefix)."""
    return (
        "YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH "
        f"LOAN VALUE [{equity_with_loan.quantize(_CENT)} {currency}] MUST EXCEED THE INITIAL "
        f"MARGIN [{initial.quantize(_CENT)} {currency}]"
    )


class WhatIfDesk:
    """Answers what-if orders; handed the settings, the security master and the valuer."""

    def __init__(
        self,
        *,
        config: BrokerConfig,
        state: BrokerState,
        contracts: ContractBook,
        valuer: Valuer,
    ) -> None:
        self._config = config
        self._state = state
        self._contracts = contracts
        self._valuer = valuer

    def answer(self, order_id: int, client_id: int, contract: Contract, order: Order) -> Message:
        """The openOrder that answers ``order`` (an Error when TWS would refuse it)."""
        echoed = replace(order, orderId=order_id, clientId=client_id)
        scripted = self._state.what_if
        if scripted is not None:
            state = _scripted(scripted)
            return OpenOrder(orderId=order_id, contract=contract, order=echoed, orderState=state)
        listing = self._contracts.lookup(contract)
        if listing is None:
            return Error(reqId=order_id, errorCode=200, errorString=NO_SECURITY_DEFINITION)
        instrument = listing.instrument
        refusal = check_new_order(
            order,
            sec_type=listing.contract.secType,
            min_tick=instrument.min_tick if instrument is not None else _DEFAULT_TICK,
        )
        if refusal is not None:
            return Error(reqId=order_id, errorCode=refusal.code, errorString=refusal.text)
        account = order.account or self._state.accounts[0]
        quantity = order.totalQuantity if order.action == "BUY" else -order.totalQuantity
        trade = Trade(
            quantity=quantity,
            price=self._trade_price(listing, order),
            commission=self._config.commission(order.totalQuantity),
        )
        result = self._valuer.what_if(account, listing.contract, trade)
        state = self._computed(result, trade.commission)
        return OpenOrder(
            orderId=order_id, contract=listing.contract, order=echoed, orderState=state
        )

    def _trade_price(self, listing: Listing, order: Order) -> Decimal:
        touch = self._contracts.touch(listing, order.action)
        if order.orderType != "LMT" or order.lmtPrice is None:
            return touch
        if order.action == "BUY":
            return min(order.lmtPrice, touch)
        return max(order.lmtPrice, touch)

    def _computed(self, w: WhatIf, commission: Decimal) -> OrderState:
        ccy = self._config.base_currency
        warning = (
            ""
            if w.accepted
            else insufficient_margin_text(w.after.equity_with_loan, w.after.initial, ccy)
        )
        return OrderState(
            status="PreSubmitted",
            initMarginBefore=w.before.initial.quantize(_CENT),
            maintMarginBefore=w.before.maintenance.quantize(_CENT),
            equityWithLoanBefore=w.before.equity_with_loan.quantize(_CENT),
            initMarginChange=w.initial_change.quantize(_CENT),
            maintMarginChange=w.maintenance_change.quantize(_CENT),
            equityWithLoanChange=w.equity_with_loan_change.quantize(_CENT),
            initMarginAfter=w.after.initial.quantize(_CENT),
            maintMarginAfter=w.after.maintenance.quantize(_CENT),
            equityWithLoanAfter=w.after.equity_with_loan.quantize(_CENT),
            commission=commission,
            minCommission=commission,
            maxCommission=commission,
            commissionCurrency=ccy,
            warningText=warning,
        )


def _scripted(answer: WhatIfAnswer) -> OrderState:
    """The scripted numbers: "before" is an empty account, so the change is the after."""
    init_after = answer.init_margin_after
    if not answer.margin_ok and init_after <= answer.equity_with_loan:
        init_after = answer.equity_with_loan * Decimal("1.25")
    warning = answer.warning or (
        "" if answer.margin_ok else "YOUR ORDER IS NOT ACCEPTED: INSUFFICIENT MARGIN"
    )
    maint_after = init_after * Decimal("0.8")
    return OrderState(
        status="PreSubmitted",
        initMarginBefore=Decimal(0),
        maintMarginBefore=Decimal(0),
        equityWithLoanBefore=answer.equity_with_loan,
        initMarginChange=init_after,
        maintMarginChange=maint_after,
        equityWithLoanChange=Decimal(0),
        initMarginAfter=init_after,
        maintMarginAfter=maint_after,
        equityWithLoanAfter=answer.equity_with_loan,
        warningText=warning,
    )
