"""The security master of the paper TWS: which instruments exist and how a request finds them.

Owns `Instrument` (IB's contract fields plus the contract-details fields TWS reports:
longName, minTick, trading and liquid hours, time zone, valid exchanges, ...) and `Catalog`,
the set of instruments with IB's matching rules: by conId; else by symbol (or localSymbol),
secType, exchange (SMART or any listing exchange), currency, and for futures and options by
expiry (a month ``YYYYMM`` matches the day ``YYYYMMDD``), strike, right and multiplier,
read from the one `Contract` of the message vocabulary. Empty fields match anything, as in
TWS (a contract decoded from the wire keeps the client's empty fields). Several matches are
an ambiguous request; none is TWS's error 200.

The built-in catalog is `instruments.toml` next to this module (IB's real identifiers, with
sources); `instruments_file.py` reads it and users' extension files. Option chains are
generated (`instruments_options.py`) around the underlying's price at the catalog's date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from ibguard.kit.sim.instruments_hours import Sessions
from ibguard.kit.sim.market_rules import rule_ids
from ibguard.kit.sim.messages import Contract, ContractDetails
from ibguard.kit.sim.prices import PriceParams

__all__ = ["NO_SECURITY_DEFINITION", "Catalog", "Instrument"]

NO_SECURITY_DEFINITION: Final = "No security definition has been found for the request"
_RIGHTS: Final = {"C": "C", "CALL": "C", "P": "P", "PUT": "P"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    con_id: int
    symbol: str
    sec_type: str
    exchange: str  # what TWS reports in the contract: SMART for routed stocks and options
    currency: str
    primary_exchange: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    last_trade_date: str = ""  # YYYYMMDD for futures and options
    strike: Decimal = Decimal(0)
    right: str = ""  # C or P
    multiplier: str = ""
    long_name: str = ""
    market_name: str = ""
    min_tick: Decimal = Decimal("0.01")
    valid_exchanges: str = ""
    order_types: str = "LMT,MKT,STP,STPLMT,TRAIL,MOC,LOC,REL,MIT,LIT"
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    stock_type: str = ""
    contract_month: str = ""
    under_con_id: int = 0
    under_symbol: str = ""
    under_sec_type: str = ""
    isin: str = ""
    time_zone_id: str = "US/Eastern"
    # futures: the exchange's margin per contract, in the contract's currency (margins.py)
    initial_margin: Decimal | None = None
    maintenance_margin: Decimal | None = None
    trading: Sessions
    liquid: Sessions
    price: PriceParams

    def contract(self) -> Contract:
        """The contract TWS reports for this instrument (in details, orders, positions)."""
        return Contract(
            conId=self.con_id,
            symbol=self.symbol,
            secType=self.sec_type,
            lastTradeDateOrContractMonth=self.last_trade_date,
            strike=self.strike,
            right=self.right,
            multiplier=self.multiplier,
            exchange=self.exchange,
            primaryExchange=self.primary_exchange,
            currency=self.currency,
            localSymbol=self.local_symbol,
            tradingClass=self.trading_class,
        )

    def details(
        self, req_id: int, today: date, contract: Contract | None = None
    ) -> ContractDetails:
        """contractDetails as TWS reports this instrument on `today` (exchange-local date);
        `contract` overrides the reported contract (a renamed listing)."""
        return ContractDetails(
            reqId=req_id,
            contract=contract or self.contract(),
            marketName=self.market_name or self.trading_class,
            minTick=self.min_tick,
            orderTypes=self.order_types,
            validExchanges=self.valid_exchanges,
            underConId=self.under_con_id,
            longName=self.long_name,
            contractMonth=self.contract_month,
            industry=self.industry,
            category=self.category,
            subcategory=self.subcategory,
            timeZoneId=self.time_zone_id,
            tradingHours=self.trading_hours(today),
            liquidHours=self.liquid_hours(today),
            secIdList=(("ISIN", self.isin),) if self.isin else (),
            aggGroup=1,
            underSymbol=self.under_symbol,
            underSecType=self.under_sec_type,
            marketRuleIds=rule_ids(self.sec_type, self.min_tick, self.valid_exchanges),
            realExpirationDate=self.last_trade_date,
            stockType=self.stock_type,
            suggestedSizeIncrement=Decimal(100) if self.sec_type == "STK" else Decimal(1),
        )

    @property
    def key(self) -> str:
        """How the instrument is named in logs and scripts (the localSymbol, else symbol)."""
        return self.local_symbol or self.symbol

    def trading_hours(self, today: date) -> str:
        return self.trading.tws_text(today)

    def liquid_hours(self, today: date) -> str:
        return self.liquid.tws_text(today)


@dataclass
class Catalog:
    """Instruments indexed by conId, by symbol and by (symbol, secType); `as_of` is the date
    option chains and trading-hours texts are built around."""

    as_of: date
    _by_con_id: dict[int, Instrument] = field(default_factory=dict)
    _by_symbol: dict[str, list[Instrument]] = field(default_factory=dict)
    # a stock order names its secType: it need not be checked against the symbol's options
    _by_symbol_type: dict[tuple[str, str], list[Instrument]] = field(default_factory=dict)

    def add(self, instrument: Instrument) -> None:
        """Add (or replace, same conId) one instrument."""
        old = self._by_con_id.get(instrument.con_id)
        if old is not None:
            self._by_symbol[old.symbol].remove(old)
            self._by_symbol_type[(old.symbol, old.sec_type)].remove(old)
        self._by_con_id[instrument.con_id] = instrument
        self._by_symbol.setdefault(instrument.symbol, []).append(instrument)
        kind = (instrument.symbol, instrument.sec_type)
        self._by_symbol_type.setdefault(kind, []).append(instrument)

    def extend(self, instruments: Iterable[Instrument]) -> None:
        for instrument in instruments:
            self.add(instrument)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_con_id.values())

    def __len__(self) -> int:
        return len(self._by_con_id)

    def by_con_id(self, con_id: int) -> Instrument | None:
        return self._by_con_id.get(con_id)

    def by_symbol(self, symbol: str) -> list[Instrument]:
        return list(self._by_symbol.get(symbol, ()))

    def find(self, contract: Contract) -> list[Instrument]:
        """Every instrument a client's contract names (TWS: several = ambiguous, none = error
        200). Empty fields match anything; with a conId only that instrument can match."""
        if contract.conId:
            found = self._by_con_id.get(contract.conId)
            return [found] if found is not None and _fits(found, contract) else []
        if contract.symbol and contract.secType:
            kind = (contract.symbol, contract.secType.upper())
            candidates: Iterable[Instrument] = self._by_symbol_type.get(kind, ())
        elif contract.symbol:
            candidates = self._by_symbol.get(contract.symbol, ())
        elif contract.localSymbol:
            local = contract.localSymbol
            candidates = (i for i in self._by_con_id.values() if i.local_symbol == local)
        else:
            return []
        return [i for i in candidates if _fits(i, contract)]

    def underlying(self, option: Instrument) -> Instrument | None:
        return self._by_con_id.get(option.under_con_id) if option.under_con_id else None

    def derivatives(self, under_con_id: int, sec_type: str = "OPT") -> list[Instrument]:
        return [
            i
            for i in self._by_con_id.values()
            if i.under_con_id == under_con_id and i.sec_type == sec_type
        ]

    def matching_symbols(self, pattern: str, limit: int = 16) -> list[Instrument]:
        """reqMatchingSymbols: stocks, ETFs, FX and futures whose symbol starts with the
        pattern, or whose long name contains it (case-insensitive); exact symbols first."""
        wanted = pattern.strip().upper()
        if not wanted:
            return []
        hits = [
            i
            for i in self._by_con_id.values()
            if i.sec_type in {"STK", "CASH", "IND"}
            and (i.symbol.upper().startswith(wanted) or wanted in i.long_name.upper())
        ]
        hits.sort(key=lambda i: (i.symbol.upper() != wanted, i.symbol, i.con_id))
        return hits[:limit]


def _fits(i: Instrument, q: Contract) -> bool:
    if q.secType and q.secType.upper() != i.sec_type:
        return False
    if q.currency and q.currency.upper() != i.currency:
        return False
    if q.localSymbol and q.localSymbol != i.local_symbol:
        return False
    if q.tradingClass and q.tradingClass != i.trading_class:
        return False
    if q.exchange and not _listed_on(i, q.exchange.upper()):
        return False
    if (
        q.primaryExchange
        and i.primary_exchange
        and q.primaryExchange.upper()
        not in {
            i.primary_exchange,
            "ISLAND" if i.primary_exchange == "NASDAQ" else i.primary_exchange,
        }
    ):
        return False
    if q.lastTradeDateOrContractMonth and not i.last_trade_date.startswith(
        q.lastTradeDateOrContractMonth
    ):
        return False
    if q.strike and q.strike != i.strike:
        return False
    if q.right and _RIGHTS.get(q.right.upper(), "?") != i.right:
        return False
    return not q.multiplier or _same_number(q.multiplier, i.multiplier or "1")


def _same_number(a: str, b: str) -> bool:
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return False


def _listed_on(i: Instrument, exchange: str) -> bool:
    listed = {i.exchange, i.primary_exchange, *i.valid_exchanges.split(",")}
    if "NASDAQ" in listed:
        listed.add("ISLAND")  # the API's name for NASDAQ
    return exchange in listed
