"""TWS's API message pacing: at most N messages per second per client (error 100 beyond).

Owns one sliding one-second window over broker time. Invariant: `admit` returns False
for the message that would make more than `per_second` admitted messages within any
one-second window; dropped messages do not count against the window (TWS discards them).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["RateLimiter"]

_WINDOW = timedelta(seconds=1)


class RateLimiter:
    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        # admitted messages as (time, how many) runs, oldest first: a broker clock that
        # stands still (a case, a benchmark) admits any number at one time in one entry
        self._admitted: deque[_Run] = deque()
        self._count = 0

    def admit(self, now: datetime) -> bool:
        admitted = self._admitted
        while admitted and now - admitted[0].time >= _WINDOW:
            self._count -= admitted.popleft().count
        if self._count >= self.per_second:
            return False
        if admitted and admitted[-1].time == now:
            admitted[-1].count += 1
        else:
            admitted.append(_Run(now))
        self._count += 1
        return True


@dataclass(slots=True)
class _Run:
    time: datetime
    count: int = 1
