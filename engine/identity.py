"""Which broker record belongs to which order.

- `oms_id` is the engine's key. It travels to IB in `orderRef` as "<namespace>:<oms_id>",
  so every openOrder, completedOrder and execDetails can be matched back.
- `permId` is the durable broker key (unique across sessions and days; 0 = not yet known).
- `(clientId, orderId)` is only a provisional alias: orderIds repeat across days and
  restarts, and 2^31-1 is IB's "unset". The alias always points at the newest order that
  used it; an older order keeps being found by its permId.
Lookups are dictionary hits, so the cost per event does not grow with the book.

The permId table has a dense twin for the per-event paths: our orderIds are handed out one
after another, so a list indexed by orderId reaches an order through one slot, where the
permId dictionary reads its index, its entry and the stored key (each elsewhere in memory,
each a cache miss once the book outgrows the cache). A slot is only a hint: it holds an
order with the permId it had when placed (in an array of plain integers, read without
touching another object), and a lookup uses it only when that permId is the event's.
Invariant: a slot holding (order, permId) means the permId table maps permId to that
order, so a hit is exactly what the permId table answers, whatever the event's orderId
(reused after midnight, another client's) says.
"""

from __future__ import annotations

from array import array
from typing import Final, Generic, TypeVar

from ibguard.engine.config import ORDER_ID_MAX

__all__ = ["OrderIndex", "make_order_ref", "parse_order_ref"]

V = TypeVar("V")

# how far past the last slot an orderId may land and still get one (acknowledgements come
# in any order; a jump beyond this, a new orderId range, is served by the dictionaries)
SLOT_GAP: Final = 4096


def make_order_ref(namespace: str, oms_id: str) -> str:
    return f"{namespace}:{oms_id}"


def parse_order_ref(namespace: str, order_ref: str) -> str | None:
    """The oms_id when `order_ref` is in our namespace, else None (foreign or empty)."""
    prefix, sep, oms_id = order_ref.partition(":")
    if sep and prefix == namespace and oms_id:
        return oms_id
    return None


def is_set(order_id: int) -> bool:
    """IB uses 0 and 2^31-1 for "no orderId"."""
    return 0 < order_id < ORDER_ID_MAX


class OrderIndex(Generic[V]):
    """permId -> order and (clientId, orderId) -> order, both kept current by the book."""

    __slots__ = ("_by_alias", "_by_perm", "perm_get", "slot_base", "slot_orders", "slot_perms")

    def __init__(self) -> None:
        self._by_perm: dict[int, V] = {}
        self._by_alias: dict[tuple[int, int], V] = {}
        # permId -> order in one call for the per-event paths (0 is never bound)
        self.perm_get = self._by_perm.get
        # the dense twin (module docstring): slot i is orderId slot_base + i; an empty slot
        # holds None and permId 0, which no lookup matches (0 is never bound either)
        self.slot_base = 0
        self.slot_orders: list[V | None] = []
        self.slot_perms = array("q")

    def bind_perm(self, perm_id: int, order: V) -> None:
        if perm_id:
            previous = self._by_perm.get(perm_id)
            if previous is not None and previous is not order:
                self._unplace(perm_id)  # the slot's order no longer owns this permId
            self._by_perm[perm_id] = order

    def place(self, order_id: int, perm_id: int, order: V) -> None:
        """Let `order_id` reach `order`, which the permId table maps `perm_id` to."""
        orders = self.slot_orders
        if not orders:
            self.slot_base = order_id
        i = order_id - self.slot_base
        size = len(orders)
        if i < 0 or i > size + SLOT_GAP:
            return  # outside the dense range: the dictionaries serve it
        if i >= size:
            orders.extend([None] * (i + 1 - size))
            self.slot_perms.extend([0] * (i + 1 - size))
        orders[i] = order
        self.slot_perms[i] = perm_id

    def _unplace(self, perm_id: int) -> None:
        try:
            i = self.slot_perms.index(perm_id)
        except ValueError:
            return
        self.slot_orders[i] = None
        self.slot_perms[i] = 0

    def by_perm(self, perm_id: int) -> V | None:
        return self._by_perm.get(perm_id) if perm_id else None

    def bind_alias(self, client_id: int, order_id: int, order: V) -> V | None:
        """Point the alias at `order`; returns the other order it pointed at (a reuse)."""
        if not is_set(order_id):
            return None
        key = (client_id, order_id)
        previous = self._by_alias.get(key)
        self._by_alias[key] = order
        return previous if previous is not order else None

    def by_alias(self, client_id: int, order_id: int) -> V | None:
        return self._by_alias.get((client_id, order_id)) if is_set(order_id) else None

    def drop_alias(self, client_id: int | None, order_id: int | None, order: V) -> None:
        key = (client_id or 0, order_id or 0)
        if self._by_alias.get(key) is order:
            del self._by_alias[key]
        i = (order_id or 0) - self.slot_base
        if 0 <= i < len(self.slot_orders) and self.slot_orders[i] is order:
            self.slot_orders[i] = None
            self.slot_perms[i] = 0
