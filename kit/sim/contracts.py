"""The simulated security master: symbol -> Contract, prices, halts and symbol changes.

Owns which instruments exist, their conIds, the simulated last price of each, and which
are halted. Unknown symbols are created on first use (a quiet paper account trades
anything) unless the symbol was renamed away (EDGE-02: IBM -> IBM2), in which case it no
longer resolves and orders for it fail with error 200 like TWS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from decimal import Decimal

from ibguard.errors import UsageError
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


class ContractBook:
    def __init__(self, *, default_price: Decimal = Decimal("100.00")) -> None:
        self._by_symbol: dict[str, Listing] = {}
        self._renamed: dict[str, str] = {}
        self._next_con_id = 8314
        self._default_price = default_price

    def resolve(self, symbol: str, sec_type: str = "STK", currency: str = "USD") -> Listing | None:
        """The listing for `symbol`, created on first use; None once it was renamed away."""
        if symbol in self._renamed:
            return None
        listing = self._by_symbol.get(symbol)
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
        return listing

    def by_con_id(self, con_id: int) -> Listing | None:
        return next((x for x in self._by_symbol.values() if x.contract.conId == con_id), None)

    def set_price(self, symbol: str, price: Decimal) -> None:
        listing = self._require(symbol)
        listing.price = price

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
        self._by_symbol[new_symbol] = listing
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
