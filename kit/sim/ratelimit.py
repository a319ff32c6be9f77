"""TWS's API message pacing: at most N messages per second per client (error 100 beyond).

Owns one sliding one-second window over broker time. Invariant: `admit` returns False
for the message that would make more than `per_second` admitted messages within any
one-second window; dropped messages do not count against the window (TWS discards them).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

__all__ = ["RateLimiter"]

_WINDOW = timedelta(seconds=1)


class RateLimiter:
    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._admitted: deque[datetime] = deque()

    def admit(self, now: datetime) -> bool:
        while self._admitted and now - self._admitted[0] >= _WINDOW:
            self._admitted.popleft()
        if len(self._admitted) >= self.per_second:
            return False
        self._admitted.append(now)
        return True
