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

_ZERO = Decimal(0)


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


# one counted execution: (exec_id, revision, quantity, price, time, commission); a plain
# tuple, the cheapest record to make once per fill (a commission, rarer, replaces it)
_Fill = tuple[str, int, Decimal, Decimal, datetime, Decimal | None]


class FillLedger:
    """The accepted executions of one order, keyed by execId without its revision.

    An OrderRecord is one (a base class, not a field), so that a fill reads and writes one
    object of the order and not two: with 100k open orders each is a cache miss."""

    # the total quantity is kept as fills come; the notional is summed when a view asks
    # for the VWAP (exactly as before, from the same entries): a fill then reads and
    # replaces one Decimal of the order, not two
    __slots__ = ("_entries", "_filled")

    def __init__(self) -> None:
        self._entries: dict[str, _Fill] = {}
        self._filled = _ZERO

    @property
    def filled(self) -> Decimal:
        """The quantity counted so far."""
        return self._filled

    @property
    def avg_price(self) -> Decimal | None:
        if not self._filled:
            return None
        notional = sum((entry[2] * entry[3] for entry in self._entries.values()), _ZERO)
        return notional / self._filled

    def __contains__(self, exec_id: str) -> bool:
        entry = self._entries.get(split_exec_id(exec_id)[0])
        return entry is not None and entry[0] == exec_id

    def add_new(
        self, exec_id: str, quantity: Decimal, price: Decimal, time: datetime, limit: Decimal
    ) -> Decimal | None:
        """Count an execution whose execId (any revision) is not counted yet, when the
        total stays within `limit`: returns the new total. None, and nothing changed,
        otherwise (then `apply` decides what it is)."""
        total = self._filled + quantity
        if total > limit:
            return None
        base, dot, suffix = exec_id.rpartition(".")
        if dot and base and suffix.isdigit():
            revision = int(suffix)
        else:
            base, revision = exec_id, 0
        entries = self._entries
        if base in entries:
            return None
        entries[base] = (exec_id, revision, quantity, price, time, None)
        self._filled = total
        return total

    def apply(
        self, exec_id: str, quantity: Decimal, price: Decimal, time: datetime
    ) -> LedgerResult:
        """Count one execution (quantity > 0). Says what happened; never raises."""
        base, revision = split_exec_id(exec_id)
        entry = self._entries.get(base)
        if entry is None:
            self._entries[base] = (exec_id, revision, quantity, price, time, None)
            self._filled += quantity
            return LedgerResult(outcome=FillOutcome.APPLIED, quantity_delta=quantity)
        old_exec_id, old_revision, old_quantity, old_price, old_time, commission = entry
        if revision == old_revision:
            same = (old_quantity, old_price, old_time) == (quantity, price, time)
            return LedgerResult(outcome=FillOutcome.DUPLICATE if same else FillOutcome.CONFLICT)
        if revision < old_revision:
            return LedgerResult(outcome=FillOutcome.STALE_CORRECTION)
        # the correction keeps the commission of the execution it replaces
        self._entries[base] = (exec_id, revision, quantity, price, time, commission)
        self._filled += quantity - old_quantity
        return LedgerResult(
            outcome=FillOutcome.CORRECTED,
            quantity_delta=quantity - old_quantity,
            replaced_exec_id=old_exec_id,
        )

    def set_commission(self, exec_id: str, commission: Decimal) -> bool:
        """Attach a commission to a counted execution; False when the execId is not counted."""
        base = split_exec_id(exec_id)[0]
        entry = self._entries.get(base)
        if entry is None or entry[0] != exec_id:
            return False
        _, revision, quantity, price, time, _ = entry
        self._entries[base] = (exec_id, revision, quantity, price, time, commission)
        return True

    def views(self) -> tuple[FillView, ...]:
        return tuple(
            FillView(
                exec_id=exec_id,
                quantity=quantity,
                price=price,
                time=time,
                commission=commission,
            )
            for exec_id, _, quantity, price, time, commission in self._entries.values()
        )
