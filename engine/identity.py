"""Which broker record belongs to which order.

- `oms_id` is the engine's key. It travels to IB in `orderRef` as "<namespace>:<oms_id>",
  so every openOrder, completedOrder and execDetails can be matched back.
- `permId` is the durable broker key (unique across sessions and days; 0 = not yet known).
- `(clientId, orderId)` is only a provisional alias: orderIds repeat across days and
  restarts, and 2^31-1 is IB's "unset". The alias always points at the newest order that
  used it; an older order keeps being found by its permId.
Lookups are dictionary hits, so the cost per event does not grow with the book.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from ibguard.engine.config import ORDER_ID_MAX

__all__ = ["OrderIndex", "make_order_ref", "parse_order_ref"]

V = TypeVar("V")


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

    __slots__ = ("_by_alias", "_by_perm", "perm_get")

    def __init__(self) -> None:
        self._by_perm: dict[int, V] = {}
        self._by_alias: dict[tuple[int, int], V] = {}
        # permId -> order in one call for the per-event paths (0 is never bound)
        self.perm_get = self._by_perm.get

    def bind_perm(self, perm_id: int, order: V) -> None:
        if perm_id:
            self._by_perm[perm_id] = order

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
