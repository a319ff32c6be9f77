"""Margin of the simulated account: a documented, rule-based model of an IB Reg T account.

Owns the rules that turn holdings into initial and maintenance requirements, the account
figures built on them (net liquidation, equity with loan, available funds), and the what-if
arithmetic TWS answers a whatIf order with: the account before, the change, the account
after. Pure: Decimal in, Decimal out; `account.py` reads the ledger, the price model and the
catalog and hands the holdings in. The model and its sources are in docs/margins.md.

Rules per holding (v = |quantity| x multiplier x price, "units" = |quantity| x multiplier):
- STK long: initial `stock_initial` x v (Reg T 50%), maintenance `stock_maintenance` x v (25%).
- STK short: maintenance per share by price (IB's table): above 16.67 30%; above 5.00 $5.00;
  above 2.50 100%; else $2.50. Initial: the larger of `stock_initial` x v and maintenance.
- OPT long: none; the premium is paid in full from cash.
- OPT short (IB's "greater of" rule for naked equity options), per unit: option price +
  max(20% x underlying - out-of-the-money amount, 10% x underlying (calls) or strike (puts)).
  Initial = maintenance.
- FUT: per contract initial and maintenance from the catalog (`initial_margin`,
  `maintenance_margin`); without them a fixed share of the notional.
- CASH (FX): `fx` x v (2.5% for the majors), initial = maintenance.
- anything else: as a stock.
Account: net liquidation = cash + market values; equity with loan = net liquidation minus
the market value of options (IB leaves US options out of it); gross position value = the
absolute market values of everything but futures. Invariants: a requirement is never
negative and grows with |quantity| at a given price, so an order that brings a position
toward zero never raises the account's margin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Final, final

__all__ = [
    "AccountMargin",
    "Holding",
    "MarginRates",
    "Requirement",
    "Trade",
    "WhatIf",
    "account_margin",
    "multiplier_of",
    "requirement",
    "what_if",
]

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
# IB's short-stock maintenance table (per share, by the share price)
_SHORT_30_PCT_ABOVE: Final = Decimal("16.67")
_SHORT_FIVE_DOLLARS: Final = Decimal("5.00")
_SHORT_FULL_ABOVE: Final = Decimal("2.50")
_SHORT_FLOOR: Final = Decimal("2.50")


def multiplier_of(text: str) -> Decimal:
    """A contract's multiplier field as a number ("" and nonsense mean 1, as for stocks)."""
    try:
        value = Decimal(text) if text.strip() else _ONE
    except InvalidOperation:
        return _ONE
    return value if value.is_finite() and value > 0 else _ONE


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class MarginRates:
    """The rates of the model (docs/margins.md gives each one's source)."""

    stock_initial: Decimal = Decimal("0.50")
    stock_maintenance: Decimal = Decimal("0.25")
    short_stock_maintenance: Decimal = Decimal("0.30")
    short_option_underlying: Decimal = Decimal("0.20")
    short_option_floor: Decimal = Decimal("0.10")
    future_initial: Decimal = Decimal("0.12")  # of notional, when the catalog has no figure
    future_maintenance: Decimal = Decimal("0.10")
    fx: Decimal = Decimal("0.025")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Holding:
    """One position as margin sees it: signed quantity, price per unit (the mark) and what
    its rule needs."""

    sec_type: str
    quantity: Decimal
    price: Decimal
    multiplier: Decimal = _ONE
    right: str = ""  # options: C or P
    strike: Decimal = _ZERO
    underlying_price: Decimal | None = None  # options; unknown: the strike stands in
    future_initial: Decimal | None = None  # futures: per contract
    future_maintenance: Decimal | None = None

    @property
    def market_value(self) -> Decimal:
        return self.quantity * self.price * self.multiplier


@final
@dataclass(frozen=True, slots=True)
class Requirement:
    initial: Decimal
    maintenance: Decimal


def requirement(h: Holding, rates: MarginRates) -> Requirement:
    """The initial and maintenance margin ``h`` needs on its own."""
    units = abs(h.quantity) * h.multiplier
    value = units * h.price
    if h.quantity == 0:
        return Requirement(_ZERO, _ZERO)
    if h.sec_type == "OPT":
        if h.quantity > 0:
            return Requirement(_ZERO, _ZERO)
        need = units * _short_option_per_unit(h, rates)
        return Requirement(need, need)
    if h.sec_type == "FUT":
        contracts = abs(h.quantity)
        initial = (
            contracts * h.future_initial
            if h.future_initial is not None
            else value * rates.future_initial
        )
        maintenance = (
            contracts * h.future_maintenance
            if h.future_maintenance is not None
            else value * rates.future_maintenance
        )
        return Requirement(initial, maintenance)
    if h.sec_type == "CASH":
        need = value * rates.fx
        return Requirement(need, need)
    if h.quantity > 0:
        return Requirement(value * rates.stock_initial, value * rates.stock_maintenance)
    maintenance = units * _short_stock_per_share(h.price, rates)
    return Requirement(max(value * rates.stock_initial, maintenance), maintenance)


def _short_stock_per_share(price: Decimal, rates: MarginRates) -> Decimal:
    if price > _SHORT_30_PCT_ABOVE:
        return price * rates.short_stock_maintenance
    if price > _SHORT_FIVE_DOLLARS:
        return _SHORT_FIVE_DOLLARS
    if price > _SHORT_FULL_ABOVE:
        return price
    return _SHORT_FLOOR


def _short_option_per_unit(h: Holding, rates: MarginRates) -> Decimal:
    under = h.underlying_price if h.underlying_price is not None else h.strike
    if h.right == "C":
        out_of_money = max(h.strike - under, _ZERO)
        floor = rates.short_option_floor * under
    else:
        out_of_money = max(under - h.strike, _ZERO)
        floor = rates.short_option_floor * h.strike
    return h.price + max(rates.short_option_underlying * under - out_of_money, floor)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountMargin:
    """One account's money as margin sees it (before or after a what-if trade)."""

    cash: Decimal
    net_liquidation: Decimal
    equity_with_loan: Decimal
    gross_position_value: Decimal
    initial: Decimal
    maintenance: Decimal

    @property
    def available_funds(self) -> Decimal:
        return self.equity_with_loan - self.initial

    @property
    def excess_liquidity(self) -> Decimal:
        return self.equity_with_loan - self.maintenance


def account_margin(cash: Decimal, holdings: Iterable[Holding], rates: MarginRates) -> AccountMargin:
    """The account of ``cash`` (the ledger's: every fill moved it by its notional) and
    ``holdings`` valued at their prices."""
    net = ewl = cash
    gross = initial = maintenance = _ZERO
    for h in holdings:
        value = h.market_value
        net += value
        if h.sec_type != "OPT":
            ewl += value
        if h.sec_type != "FUT":
            gross += abs(value)
        need = requirement(h, rates)
        initial += need.initial
        maintenance += need.maintenance
    return AccountMargin(
        cash=cash,
        net_liquidation=net,
        equity_with_loan=ewl,
        gross_position_value=gross,
        initial=initial,
        maintenance=maintenance,
    )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """What a what-if order would do: signed quantity (buy > 0), the price it would trade
    at, and its commission."""

    quantity: Decimal
    price: Decimal
    commission: Decimal = _ZERO


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIf:
    before: AccountMargin
    after: AccountMargin
    accepted: bool  # False: the order would leave equity with loan below the initial margin

    @property
    def initial_change(self) -> Decimal:
        return self.after.initial - self.before.initial

    @property
    def maintenance_change(self) -> Decimal:
        return self.after.maintenance - self.before.maintenance

    @property
    def equity_with_loan_change(self) -> Decimal:
        return self.after.equity_with_loan - self.before.equity_with_loan


def what_if(
    *,
    cash: Decimal,
    others: Iterable[Holding],
    position: Holding,
    trade: Trade,
    rates: MarginRates,
) -> WhatIf:
    """The account before and after ``trade`` in ``position`` (quantity 0 when the account
    holds none yet), the rest of the account being ``others``. An order that raises the
    initial margin beyond the equity with loan after it is not accepted; one that lowers
    the margin always is (TWS lets an account in deficit close positions)."""
    rest = tuple(others)
    before = account_margin(cash, (*rest, position), rates)
    moved = replace(position, quantity=position.quantity + trade.quantity)
    cash_after = cash - trade.quantity * trade.price * position.multiplier - trade.commission
    after = account_margin(cash_after, (*rest, moved), rates)
    raises = after.initial > before.initial
    accepted = not raises or after.equity_with_loan >= after.initial
    return WhatIf(before=before, after=after, accepted=accepted)
