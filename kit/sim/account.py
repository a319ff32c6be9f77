"""The simulated account's money: cash, margin and the portfolio valued at market prices.

Owns the valuation TWS reports through reqAccountUpdates, reqAccountUpdatesMulti and
reqAccountSummary, computed from the broker's truth: start cash (`BrokerConfig.start_cash`)
plus the cash the ledger's executions and commissions moved, and every position line valued
at its listing's simulated price. A plain Reg T stock account in one currency: equity with
loan value is the net liquidation value, margins are fixed rates of the gross position value
(`BrokerConfig.initial_margin_rate` / `maintenance_margin_rate`). Money is Decimal, rounded
to cents for account values; portfolio values are exact (marketValue = position x price).
A `Valuer` reads the ledger, the security master and the config it is handed (never the
broker itself) and changes nothing, so answers are deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ibguard.kit.sim.book import Ledger, PositionLine
from ibguard.kit.sim.config import BrokerConfig
from ibguard.kit.sim.contracts import ContractBook
from ibguard.kit.sim.messages import PortfolioValue

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

    def _lines(self, account: str) -> list[PositionLine]:
        return [line for line in self._ledger.positions.values() if line.account == account]

    def _price(self, line: PositionLine) -> Decimal:
        listing = self._contracts.by_con_id(line.contract.conId)
        if listing is None:
            listing = self._contracts.resolve(line.contract.symbol)
        return self._contracts.mark(listing) if listing is not None else line.avg_cost

    def portfolio_value(self, line: PositionLine) -> PortfolioValue:
        price = self._price(line)
        return PortfolioValue(
            contract=line.contract,
            position=line.position,
            marketPrice=price,
            marketValue=line.position * price,
            averageCost=line.avg_cost,
            unrealizedPNL=line.position * (price - line.avg_cost),
            realizedPNL=line.realized_pnl,
            accountName=line.account,
        )

    def valuation(self, account: str) -> AccountValuation:
        cfg = self._config
        ccy = cfg.base_currency
        portfolio = tuple(self.portfolio_value(line) for line in self._lines(account))
        cash = cfg.start_cash + self._ledger.cash_moves.get(account, _ZERO)
        stock = sum((p.marketValue for p in portfolio), _ZERO)
        gross = sum((abs(p.marketValue) for p in portfolio), _ZERO)
        net_liq = cash + stock
        init = gross * cfg.initial_margin_rate
        maint = gross * cfg.maintenance_margin_rate
        available = net_liq - init
        excess = net_liq - maint
        money: list[tuple[str, Decimal]] = [
            ("NetLiquidation", net_liq),
            ("TotalCashValue", cash),
            ("SettledCash", cash),
            ("CashBalance", cash),
            ("StockMarketValue", stock),
            ("GrossPositionValue", gross),
            ("EquityWithLoanValue", net_liq),
            ("InitMarginReq", init),
            ("MaintMarginReq", maint),
            ("FullInitMarginReq", init),
            ("FullMaintMarginReq", maint),
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
        ratios = (
            ("Cushion", excess / net_liq if net_liq else _ZERO),
            ("Leverage", gross / net_liq if net_liq else _ZERO),
        )
        values += [(key, ratio.quantize(Decimal("0.0001")), "") for key, ratio in ratios]
        return AccountValuation(
            account=account, currency=ccy, values=tuple(values), portfolio=portfolio
        )


def summary_tags(tags: str) -> tuple[str, ...]:
    """The supported tags a reqAccountSummary asks for ("All" means every one; unknown tags
    and $LEDGER requests are left out)."""
    asked = [t.strip() for t in tags.split(",") if t.strip()]
    if any(t.lower() == "all" for t in asked):
        return SUMMARY_TAGS
    return tuple(t for t in SUMMARY_TAGS if t in asked)
