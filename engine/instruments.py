"""The instruments the engine has seen, under their book key, for contract-change lookups.

The first sighting of a key stays unless a contract change replaces it (EDGE-02). Indexed
by conId and by symbol, so finding the instrument a changed contract replaces costs the
same for any book size.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ibguard.engine.model import Instrument

__all__ = ["InstrumentRegistry"]


class InstrumentRegistry:
    __slots__ = ("_by_con_id", "_by_key", "_by_symbol", "by_key")

    def __init__(self) -> None:
        self._by_key: dict[str, Instrument] = {}
        self._by_con_id: dict[int, set[str]] = {}
        self._by_symbol: dict[str, set[str]] = {}
        self.by_key: Final[Mapping[str, Instrument]] = MappingProxyType(self._by_key)

    def know(self, instrument: Instrument, *, replace: bool = False) -> None:
        """Register `instrument` (the first sighting stays unless `replace`)."""
        key = instrument.key
        if key in self._by_key and not replace:
            return
        self._by_key[key] = instrument
        if instrument.con_id:
            self._by_con_id.setdefault(instrument.con_id, set()).add(key)
        self._by_symbol.setdefault(instrument.symbol, set()).add(key)

    def replaced_by(self, new: Instrument, previous_symbol: str | None) -> Instrument | None:
        """A known instrument that `new` replaces: same conId under another key, or the
        symbol the broker says it had before."""
        keys = set(self._by_con_id.get(new.con_id, ())) if new.con_id else set()
        if previous_symbol is not None:
            keys |= self._by_symbol.get(previous_symbol, set())
        keys.discard(new.key)
        return self._by_key[min(keys)] if keys else None
