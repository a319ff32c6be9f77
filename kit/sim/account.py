"""The simulated account's money: cash, margin and the portfolio valued at market prices.

Owns the valuation TWS reports through reqAccountUpdates, reqAccountUpdatesMulti and
reqAccountSummary, and the what-if answer's numbers, computed from the broker's truth: start
cash (`BrokerConfig.start_cash`) plus the cash the ledger's executions and commissions moved,
and every position line valued at its listing's simulated price. Positions are valued with
their multiplier as IB does (an option's marketValue is quantity x price x 100, its
averageCost per contract); margin, equity with loan and the requirements come from the
Reg T model of `margins.py` (rates from `BrokerConfig`). The ledger moves cash by the full
notional of every fill, futures too; futures hold no cash at IB, so TotalCashValue adds their
cost back and NetLiquidation counts their unrealized P&L only. Money is Decimal, rounded
to cents for account values; portfolio values are exact. A `Valuer` reads the ledger, the
security master and the config it is handed (never the broker itself) and changes nothing,
so answers are deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ibguard.kit.sim.book import Ledger, PositionLine
from ibguard.kit.sim.config import BrokerConfig
from ibguard.kit.sim.contracts import ContractBook, Listing
from ibguard.kit.sim.margins import (
    Holding,
    MarginRates,
    Trade,
    WhatIf,
    account_margin,
    multiplier_of,
    what_if,
)
from ibguard.kit.sim.messages import Contract, PortfolioValue

__all__ = ["SUMMARY_TAGS", "AccountValuation", "Valuer", "summary_tags"]

_CENT = Decimal("0.01")
_ZERO = Decimal(0)

# reqAccountSummary tags the sim answers (IB's AccountSummaryTags it can compute).
SUMMARY_TAGS: Final = (
    "AccountType",
    "NetLiquidation",
    "TotalCashValue",
    "SettledCash",
    "BuyingPower",
    "EquityWithLoanValue",
    "GrossPositionValue",
    "InitMarginReq",
    "MaintMarginReq",
    "AvailableFunds",
    "ExcessLiquidity",
    "Cushion",
    "FullInitMarginReq",
    "FullMaintMarginReq",
    "FullAvailableFunds",
    "FullExcessLiquidity",
    "Leverage",
)


@dataclass(frozen=True, slots=True)
class AccountValuation:
    account: str
    currency: str
    values: tuple[tuple[str, str | Decimal, str], ...]  # (key, value, currency)
    portfolio: tuple[PortfolioValue, ...]

    def value(self, key: str) -> str | Decimal:
        return next(v for k, v, _ in self.values if k == key)

    def summary(self, tags: Iterable[str]) -> tuple[tuple[str, str | Decimal, str], ...]:
        wanted = set(tags)
        return tuple(row for row in self.values if row[0] in wanted)


class Valuer:
    """Values the accounts of `ledger` at the prices of `contracts`, on `config`'s terms."""

    def __init__(self, ledger: Ledger, contracts: ContractBook, config: BrokerConfig) -> None:
        self._ledger = ledger
        self._contracts = contracts
        self._config = config
        self._rates = MarginRates(
            stock_initial=config.initial_margin_rate,
            stock_maintenance=config.maintenance_margin_rate,
        )

    def _lines(self, account: str) -> list[PositionLine]:
        return [line for line in self._ledger.positions.values() if line.account == account]

    def _listing(self, contract: Contract) -> Listing | None:
        listing = self._contracts.by_con_id(contract.conId)
        if listing is None and contract.secType in ("", "STK"):
            listing = self._contracts.resolve(contract.symbol)
        return listing

    def _price(self, line: PositionLine) -> Decimal:
        listing = self._listing(line.contract)
        return self._contracts.mark(listing) if listing is not None else line.avg_cost

    def holding(self, contract: Contract, quantity: Decimal, price: Decimal) -> Holding:
        """``quantity`` of ``contract`` at ``price`` as the margin model sees it."""
        listing = self._listing(contract)
        instrument = listing.instrument if listing is not None else None
        underlying_price = None
        if instrument is not None and instrument.sec_type == "OPT" and instrument.under_con_id:
            under = self._contracts.lookup(Contract(conId=instrument.under_con_id))
            underlying_price = self._contracts.mark(under) if under is not None else None
        return Holding(
            sec_type=contract.secType or "STK",
            quantity=quantity,
            price=price,
            multiplier=multiplier_of(contract.multiplier),
            right=contract.right[:1].upper(),
            strike=contract.strike,
            underlying_price=underlying_price,
            future_initial=instrument.initial_margin if instrument is not None else None,
            future_maintenance=instrument.maintenance_margin if instrument is not None else None,
        )

    def _holding_of(self, line: PositionLine) -> Holding:
        return self.holding(line.contract, line.position, self._price(line))

    def portfolio_value(self, line: PositionLine) -> PortfolioValue:
        return self._valued_at(line, self._price(line))

    def _valued_at(self, line: PositionLine, price: Decimal) -> PortfolioValue:
        units = line.position * line.multiplier
        return PortfolioValue(
            contract=line.contract,
            position=line.position,
            marketPrice=price,
            marketValue=units * price,
            averageCost=line.average_cost,
            unrealizedPNL=units * (price - line.avg_cost),
            realizedPNL=line.realized_pnl * line.multiplier,
            accountName=line.account,
        )

    def _ledger_cash(self, account: str) -> Decimal:
        return self._config.start_cash + self._ledger.cash_moves.get(account, _ZERO)

    def what_if(self, account: str, contract: Contract, trade: Trade) -> WhatIf:
        """The account before and after ``trade`` in ``contract`` (margins.what_if)."""
        lines = self._lines(account)
        others = [self._holding_of(line) for line in lines if line.contract.conId != contract.conId]
        held = next((line for line in lines if line.contract.conId == contract.conId), None)
        listing = self._listing(contract)
        price = self._contracts.mark(listing) if listing is not None else trade.price
        position = self.holding(contract, held.position if held is not None else _ZERO, price)
        return what_if(
            cash=self._ledger_cash(account),
            others=others,
            position=position,
            trade=trade,
            rates=self._rates,
        )

    def valuation(self, account: str) -> AccountValuation:
        cfg = self._config
        ccy = cfg.base_currency
        lines = self._lines(account)
        priced = [(line, self._price(line)) for line in lines]
        portfolio = tuple(self._valued_at(line, price) for line, price in priced)
        holdings = (self.holding(line.contract, line.position, price) for line, price in priced)
        margin = account_margin(self._ledger_cash(account), holdings, self._rates)
        by_type: dict[str, Decimal] = {}
        for p in portfolio:
            kind = p.contract.secType or "STK"
            by_type[kind] = by_type.get(kind, _ZERO) + p.marketValue
        futures = [line for line in lines if line.contract.secType == "FUT"]
        # futures hold no cash: the ledger paid their notional, so it comes back here
        cash = margin.cash + sum((line.position * line.average_cost for line in futures), _ZERO)
        net_liq = margin.net_liquidation
        available = margin.available_funds
        excess = margin.excess_liquidity
        money: list[tuple[str, Decimal]] = [
            ("NetLiquidation", net_liq),
            ("TotalCashValue", cash),
            ("SettledCash", cash),
            ("CashBalance", cash),
            ("StockMarketValue", by_type.get("STK", _ZERO)),
            ("OptionMarketValue", by_type.get("OPT", _ZERO)),
            ("FuturesPNL", sum((p.unrealizedPNL for p in portfolio if _is_future(p)), _ZERO)),
            ("GrossPositionValue", margin.gross_position_value),
            ("EquityWithLoanValue", margin.equity_with_loan),
            ("InitMarginReq", margin.initial),
            ("MaintMarginReq", margin.maintenance),
            ("FullInitMarginReq", margin.initial),
            ("FullMaintMarginReq", margin.maintenance),
            ("AvailableFunds", available),
            ("ExcessLiquidity", excess),
            ("FullAvailableFunds", available),
            ("FullExcessLiquidity", excess),
            ("BuyingPower", max(available, _ZERO) * cfg.buying_power_multiplier),
            ("UnrealizedPnL", sum((p.unrealizedPNL for p in portfolio), _ZERO)),
            ("RealizedPnL", sum((p.realizedPNL for p in portfolio), _ZERO)),
        ]
        values: list[tuple[str, str | Decimal, str]] = [
            ("AccountCode", account, ""),
            ("AccountType", "INDIVIDUAL", ""),
            ("Currency", ccy, ccy),
        ]
        values += [(key, amount.quantize(_CENT), ccy) for key, amount in money]
        gross = margin.gross_position_value
        ratios = (
            ("Cushion", excess / net_liq if net_liq else _ZERO),
            ("Leverage", gross / net_liq if net_liq else _ZERO),
        )
        values += [(key, ratio.quantize(Decimal("0.0001")), "") for key, ratio in ratios]
        return AccountValuation(
            account=account, currency=ccy, values=tuple(values), portfolio=portfolio
        )


def _is_future(value: PortfolioValue) -> bool:
    return value.contract.secType == "FUT"


def summary_tags(tags: str) -> tuple[str, ...]:
    """The supported tags a reqAccountSummary asks for ("All" means every one; unknown tags
    and $LEDGER requests are left out)."""
    asked = [t.strip() for t in tags.split(",") if t.strip()]
    if any(t.lower() == "all" for t in asked):
        return SUMMARY_TAGS
    return tuple(t for t in SUMMARY_TAGS if t in asked)
