"""Stale-order detection (CONN-03) with a cost per event that does not grow with the book.

Each order that moves gets one timer: a heap entry (broker time, order). The book lists
orders that moved with no timer running; the next tick starts theirs. Later moves only
update the order's `updated_at`; when its entry comes due, a tick either finds the order
quiet for the whole threshold (stale) or pushes the entry again at its newer time. So an
event costs no heap work, and a tick pops only the entries that are due. Orders that moved
before any broker time was known are stamped by the first tick.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta

from ibguard.engine.book import Book
from ibguard.engine.model import Status
from ibguard.engine.orders import OrderRecord

__all__ = ["StaleTimer"]

_CAN_GO_STALE = frozenset(
    (Status.SUBMITTED, Status.WORKING, Status.PARTIALLY_FILLED, Status.CANCEL_PENDING)
)


class StaleTimer:
    def __init__(self, book: Book, stale_after: timedelta) -> None:
        self._book = book
        self._stale_after = stale_after
        self._heap: list[tuple[datetime, int, OrderRecord]] = []
        self._seq = 0
        self._unstamped: list[OrderRecord] = []

    def due(self, now: datetime) -> list[OrderRecord]:
        """Orders with no broker event for longer than the threshold, not yet flagged."""
        for record in self._book.drain_untimed():
            if record.updated_at is None:
                self._unstamped.append(record)
            else:
                self._push(record, record.updated_at)
        for record in self._unstamped:
            self._book.stamp(record, now)
            self._push(record, now)
        self._unstamped.clear()
        stale: list[OrderRecord] = []
        heap = self._heap
        while heap and heap[0][0] + self._stale_after <= now:
            at, _, record = heapq.heappop(heap)
            updated_at = record.updated_at or at
            if record.status not in _CAN_GO_STALE or record.pending_reconcile:
                self._book.untime(record)
            elif updated_at > at:
                self._push(record, updated_at)  # it moved since: wait from its last move
            else:
                self._book.untime(record)
                stale.append(record)
        return stale

    def _push(self, record: OrderRecord, at: datetime) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, record))
