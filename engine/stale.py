"""Stale-order detection (CONN-03) with a cost per event that does not grow with the book.

Every move of an order pushes (broker time, oms_id) on a heap; a tick pops only entries
older than the threshold and skips those the order has moved past since. Orders that moved
before any broker time was known are stamped by the first tick.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta

from ibguard.engine.book import Book
from ibguard.engine.model import Status

__all__ = ["StaleTimer"]

_CAN_GO_STALE = (Status.SUBMITTED, Status.WORKING, Status.PARTIALLY_FILLED, Status.CANCEL_PENDING)


class StaleTimer:
    def __init__(self, book: Book, stale_after: timedelta) -> None:
        self._book = book
        self._stale_after = stale_after
        self._heap: list[tuple[datetime, int, str]] = []
        self._seq = 0
        self._unstamped: set[str] = set()

    def touched(self, oms_ids: list[str]) -> None:
        for oms_id in oms_ids:
            updated_at = self._book.orders[oms_id].updated_at
            if updated_at is None:
                self._unstamped.add(oms_id)
            else:
                self._push(oms_id, updated_at)

    def due(self, now: datetime) -> list[str]:
        """Orders with no broker event for longer than the threshold, not yet flagged."""
        for oms_id in self._unstamped:
            self._book.orders[oms_id].updated_at = now
            self._push(oms_id, now)
        self._unstamped.clear()
        stale: list[str] = []
        while self._heap and self._heap[0][0] + self._stale_after <= now:
            touched, _, oms_id = heapq.heappop(self._heap)
            record = self._book.orders[oms_id]
            if (
                record.updated_at == touched
                and record.status in _CAN_GO_STALE
                and not record.pending_reconcile
            ):
                stale.append(oms_id)
        return stale

    def _push(self, oms_id: str, at: datetime) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, oms_id))
