"""The simulated security master: symbol -> Contract, prices, halts and symbol changes.

Owns which instruments are listed, their conIds, the simulated price of each, and which
are halted. A client's contract is matched against the instrument catalog as TWS matches
(`instruments.py`: by conId, or symbol/secType/exchange/currency, expiry/strike/right); a
plain stock symbol the catalog does not know is created on first use when
`create_unknown` (a quiet paper account trades anything, the SimBroker default) and is
error 200 otherwise (the paper TWS of `ibguard gateway`), as is a symbol renamed away
(EDGE-02: IBM -> IBM2). With a `Market`, prices come from its model (fills at the touch,
positions marked at the mid) and `set_price` gaps the model to the price; without one
every listing trades at its fixed price (`default_price` until set).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from decimal import Decimal

from ibguard.errors import UsageError
from ibguard.kit.sim.clock import VirtualClock
from ibguard.kit.sim.instruments import Catalog, Instrument
from ibguard.kit.sim.market import Market
from ibguard.kit.sim.messages import Contract

__all__ = ["ContractBook", "HaltMode", "Listing"]


class HaltMode(str, enum.Enum):
    REJECT = "reject"  # new orders answered with error 201
    NO_FILL = "no_fill"  # orders accepted, never filled


@dataclass
class Listing:
    contract: Contract
    price: Decimal
    halt: HaltMode | None = None
    instrument: Instrument | None = None  # the catalog's entry, if it has one


class ContractBook:
    def __init__(
        self,
        *,
        default_price: Decimal = Decimal("100.00"),
        catalog: Catalog | None = None,
        market: Market | None = None,
        clock: VirtualClock | None = None,
        create_unknown: bool = True,
    ) -> None:
        self._by_symbol: dict[str, Listing] = {}  # stocks by symbol, others by localSymbol
        self._by_con_id: dict[int, Listing] = {}
        self._renamed: dict[str, str] = {}
        self._next_con_id = 8314
        self._default_price = default_price
        self._catalog = catalog
        self._market = market if clock is not None else None
        self._clock = clock
        self._create_unknown = create_unknown

    def lookup(self, contract: Contract) -> Listing | None:
        """The one listing a client's contract names; None when none or several match."""
        found = self.matches(contract)
        return found[0] if len(found) == 1 else None

    def matches(self, contract: Contract) -> list[Listing]:
        """Every listing a client's contract names (reqContractDetails answers them all)."""
        if contract.conId and contract.conId in self._by_con_id:
            return [self._by_con_id[contract.conId]]
        if self._catalog is not None:
            found = self._catalog.find(contract)
            listed = [x for x in (self._listed(i) for i in found) if x is not None]
            if found or contract.conId:
                return listed
        if not contract.symbol or contract.secType not in ("", "STK") or contract.conId:
            return []
        listing = self.resolve(contract.symbol, "STK", contract.currency or "USD")
        return [listing] if listing is not None else []

    def _listed(self, instrument: Instrument) -> Listing | None:
        key = instrument.symbol if instrument.sec_type == "STK" else instrument.key
        if key in self._renamed:
            return None
        listing = self._by_symbol.get(key)
        if listing is None:
            listing = Listing(
                contract=instrument.contract(), price=self._default_price, instrument=instrument
            )
            self._by_symbol[key] = listing
            self._by_con_id[instrument.con_id] = listing
        return listing

    def resolve(self, symbol: str, sec_type: str = "STK", currency: str = "USD") -> Listing | None:
        """The stock listing for `symbol` (the catalog's, else created on first use when the
        book creates unknowns); None once it was renamed away."""
        if symbol in self._renamed:
            return None
        listing = self._by_symbol.get(symbol)
        if listing is None and self._catalog is not None:
            stocks = [i for i in self._catalog.by_symbol(symbol) if i.sec_type == "STK"]
            if stocks:
                return self._listed(stocks[0])
        if listing is None and not self._create_unknown:
            return None
        if listing is None:
            contract = Contract(
                conId=self._allocate_con_id(),
                symbol=symbol,
                secType=sec_type,
                currency=currency,
                primaryExchange="NYSE",
                localSymbol=symbol,
                tradingClass=symbol,
            )
            listing = Listing(contract=contract, price=self._default_price)
            self._by_symbol[symbol] = listing
            self._by_con_id[contract.conId] = listing
        return listing

    def by_con_id(self, con_id: int) -> Listing | None:
        return self._by_con_id.get(con_id)

    def touch(self, listing: Listing, action: str) -> Decimal:
        """The price an order of `action` trades at now: the ask to buy, the bid to sell
        (the fixed price without a market model)."""
        if self._market is None or self._clock is None or listing.instrument is None:
            return listing.price
        quote = self._market.quote(listing.instrument, self._clock.broker_now())
        return quote.ask if action == "BUY" else quote.bid

    def mark(self, listing: Listing) -> Decimal:
        """The price a position is valued at now: the model's mid, or the fixed price."""
        if self._market is None or self._clock is None or listing.instrument is None:
            return listing.price
        return self._market.price(listing.instrument, self._clock.broker_now())

    def halted(self, symbol: str) -> bool:
        """Whether `symbol` is halted (never creates a listing)."""
        listing = self._by_symbol.get(symbol)
        return listing is not None and listing.halt is not None

    def set_price(self, symbol: str, price: Decimal) -> None:
        listing = self._require(symbol)
        listing.price = price
        if self._market is not None and self._clock is not None and listing.instrument:
            self._market.gap_to(listing.instrument, self._clock.broker_now(), price)

    def halt(self, symbol: str, mode: HaltMode = HaltMode.REJECT) -> None:
        self._require(symbol).halt = mode

    def resume(self, symbol: str) -> None:
        self._require(symbol).halt = None

    def rename(self, old_symbol: str, new_symbol: str, *, new_con_id: int | None = None) -> Listing:
        """Corporate action: `old_symbol` stops resolving; `new_symbol` takes its place
        (keeping the conId unless a new one is given)."""
        old = self._require(old_symbol)
        con_id = new_con_id if new_con_id is not None else old.contract.conId
        contract = replace(
            old.contract,
            conId=con_id,
            symbol=new_symbol,
            localSymbol=new_symbol,
            tradingClass=new_symbol,
        )
        listing = Listing(contract=contract, price=old.price, halt=old.halt)
        del self._by_symbol[old_symbol]
        self._by_con_id.pop(old.contract.conId, None)
        self._by_symbol[new_symbol] = listing
        self._by_con_id[con_id] = listing
        self._renamed[old_symbol] = new_symbol
        return listing

    def renamed_to(self, old_symbol: str) -> str | None:
        return self._renamed.get(old_symbol)

    def _require(self, symbol: str) -> Listing:
        listing = self.resolve(symbol)
        if listing is None:
            raise UsageError(f"{symbol} was renamed to {self._renamed[symbol]}")
        return listing

    def _allocate_con_id(self) -> int:
        con_id = self._next_con_id
        self._next_con_id += 1000
        return con_id
