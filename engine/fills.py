"""Counting executions exactly once: the fill ledger of one order.

Invariants:
- An execId is counted once. The same execId again with the same data is a duplicate
  (replay after reconnect, network retry); with different data it is a conflict, recorded
  and never a silent overwrite.
- IB execIds end in a revision `.NN`; an execId differing from a counted one only in that
  suffix is a correction and replaces it (a lower revision arriving late is stale).
- Zero-quantity executions change nothing.
- VWAP is exact: Σ(qty·price)/Σqty in Decimal, never through float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import final

from ibguard.engine.model import FillView

__all__ = ["FillLedger", "FillOutcome", "LedgerResult", "split_exec_id"]


def split_exec_id(exec_id: str) -> tuple[str, int]:
    """("0000e0d5.6553a1b4.01", 1) for "0000e0d5.6553a1b4.01.01"; no numeric suffix -> 0."""
    base, dot, suffix = exec_id.rpartition(".")
    if dot and base and suffix.isdigit():
        return base, int(suffix)
    return exec_id, 0


class FillOutcome(str, Enum):
    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    CONFLICT = "CONFLICT"
    CORRECTED = "CORRECTED"
    STALE_CORRECTION = "STALE_CORRECTION"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerResult:
    outcome: FillOutcome
    quantity_delta: Decimal = Decimal(0)
    replaced_exec_id: str | None = None


@dataclass(slots=True)
class _Entry:
    exec_id: str
    revision: int
    quantity: Decimal
    price: Decimal
    time: datetime
    commission: Decimal | None = None


class FillLedger:
    """The accepted executions of one order, keyed by execId without its revision."""

    __slots__ = ("_entries", "_notional", "_quantity")

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._quantity = Decimal(0)
        self._notional = Decimal(0)

    @property
    def quantity(self) -> Decimal:
        return self._quantity

    @property
    def avg_price(self) -> Decimal | None:
        if not self._quantity:
            return None
        return self._notional / self._quantity

    def __contains__(self, exec_id: str) -> bool:
        entry = self._entries.get(split_exec_id(exec_id)[0])
        return entry is not None and entry.exec_id == exec_id

    def add_new(self, exec_id: str, quantity: Decimal, price: Decimal, time: datetime) -> bool:
        """Count an execution whose execId (any revision) is not counted yet; False, and
        nothing changed, when it is (then `apply` decides what it is)."""
        base, dot, suffix = exec_id.rpartition(".")
        if dot and base and suffix.isdigit():
            revision = int(suffix)
        else:
            base, revision = exec_id, 0
        entries = self._entries
        if base in entries:
            return False
        entries[base] = _Entry(exec_id, revision, quantity, price, time)
        self._quantity += quantity
        self._notional += quantity * price
        return True

    def apply(
        self, exec_id: str, quantity: Decimal, price: Decimal, time: datetime
    ) -> LedgerResult:
        """Count one execution (quantity > 0). Says what happened; never raises."""
        if self.add_new(exec_id, quantity, price, time):
            return LedgerResult(outcome=FillOutcome.APPLIED, quantity_delta=quantity)
        base, revision = split_exec_id(exec_id)
        entry = self._entries[base]
        if revision == entry.revision:
            same = (entry.quantity, entry.price, entry.time) == (quantity, price, time)
            return LedgerResult(outcome=FillOutcome.DUPLICATE if same else FillOutcome.CONFLICT)
        if revision < entry.revision:
            return LedgerResult(outcome=FillOutcome.STALE_CORRECTION)
        replaced = entry.exec_id
        self._add(entry.quantity, entry.price, -1)
        self._entries[base] = _Entry(exec_id, revision, quantity, price, time, entry.commission)
        self._add(quantity, price, 1)
        return LedgerResult(
            outcome=FillOutcome.CORRECTED,
            quantity_delta=quantity - entry.quantity,
            replaced_exec_id=replaced,
        )

    def set_commission(self, exec_id: str, commission: Decimal) -> bool:
        """Attach a commission to a counted execution; False when the execId is not counted."""
        entry = self._entries.get(split_exec_id(exec_id)[0])
        if entry is None or entry.exec_id != exec_id:
            return False
        entry.commission = commission
        return True

    def views(self) -> tuple[FillView, ...]:
        return tuple(
            FillView(
                exec_id=e.exec_id,
                quantity=e.quantity,
                price=e.price,
                time=e.time,
                commission=e.commission,
            )
            for e in self._entries.values()
        )

    def _add(self, quantity: Decimal, price: Decimal, sign: int) -> None:
        self._quantity += sign * quantity
        self._notional += sign * quantity * price
