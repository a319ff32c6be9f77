"""Message-rate limiting in front of the connector port (EDGE-04).

IB drops messages over its per-second limit (error 100). The throttle never drops: it sends
while the sliding one-second window has room and queues the rest in order; `release(now)`
sends what the window allows again. Time is broker time from ticks; with no time known yet,
everything counts as the same instant.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

__all__ = ["MessageThrottle"]

T = TypeVar("T")
_WINDOW = timedelta(seconds=1)


class MessageThrottle(Generic[T]):
    __slots__ = ("_limit", "_queue", "_sent")

    def __init__(self, limit_per_second: int) -> None:
        self._limit = limit_per_second
        self._sent: deque[datetime | None] = deque()
        self._queue: deque[T] = deque()

    @property
    def depth(self) -> int:
        return len(self._queue)

    def submit(self, messages: list[T], now: datetime | None) -> list[T]:
        """Queue `messages` behind anything already waiting; return what may go now."""
        self._queue.extend(messages)
        return self.release(now)

    def release(self, now: datetime | None) -> list[T]:
        self._expire(now)
        out: list[T] = []
        while self._queue and len(self._sent) < self._limit:
            out.append(self._queue.popleft())
            self._sent.append(now)
        return out

    def withdraw(self, match: Callable[[T], bool]) -> T | None:
        """Take the first waiting message that `match`es out of the queue (it never goes)."""
        for item in self._queue:
            if match(item):
                self._queue.remove(item)
                return item
        return None

    def reset(self) -> None:
        """Forget the queue and the window (after a replay: nothing was really sent)."""
        self._queue.clear()
        self._sent.clear()

    def clear(self) -> list[T]:
        """Drop everything waiting; returns it so the caller can undo what it meant."""
        dropped = list(self._queue)
        self._queue.clear()
        return dropped

    def _expire(self, now: datetime | None) -> None:
        # a send at t leaves the window at t + 1 s; sends with no known time leave once
        # any time is known
        while self._sent:
            first = self._sent[0]
            if now is not None and (first is None or first + _WINDOW <= now):
                self._sent.popleft()
            else:
                break
