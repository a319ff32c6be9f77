"""Virtual time for the simulated broker: it moves only when a test tells it to.

Owns two readings of "now": broker time (what TWS stamps on executions, completed orders
and reqCurrentTime) and local time (what the engine host's wall clock would read).
Invariants: both are timezone-aware UTC; `skew` is broker minus local, so
`local_now() == broker_now() - skew`; nothing here reads the real wall clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from ibguard.engine.ports import Clock
from ibguard.errors import UsageError

__all__ = ["DEFAULT_START", "LocalClock", "VirtualClock"]

DEFAULT_START = datetime(2024, 1, 2, 14, 30, tzinfo=timezone.utc)  # 09:30 New York


class VirtualClock:
    """Broker time plus a settable skew to the engine host's local clock (CONN-05)."""

    def __init__(self, start: datetime = DEFAULT_START, skew_seconds: float | Decimal = 0) -> None:
        self._now = _as_utc(start)
        self._skew = timedelta(seconds=float(skew_seconds))

    def broker_now(self) -> datetime:
        return self._now

    def local_now(self) -> datetime:
        return self._now - self._skew

    @property
    def skew(self) -> timedelta:
        """Broker time minus local time."""
        return self._skew

    def set_skew(self, seconds: float | Decimal) -> None:
        """Make the host's clock run `seconds` behind the broker (negative: ahead)."""
        self._skew = timedelta(seconds=float(seconds))

    def advance(self, seconds: float | Decimal) -> datetime:
        """Move broker (and local) time forward; time never goes back."""
        step = timedelta(seconds=float(seconds))
        if step < timedelta(0):
            raise UsageError(f"the virtual clock cannot go back ({seconds} s)")
        self._now += step
        return self._now

    def set(self, when: datetime) -> datetime:
        """Jump broker time to `when` (aware, not earlier than now)."""
        target = _as_utc(when)
        if target < self._now:
            raise UsageError(f"the virtual clock cannot go back from {self._now} to {target}")
        self._now = target
        return self._now


def _as_utc(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise UsageError(f"virtual clock times must be timezone-aware, got naive {when}")
    return when.astimezone(timezone.utc)


class LocalClock(Clock):
    """The engine host's wall clock as the shell's `Clock` port, read off a VirtualClock
    (so a skewed host can be simulated without touching the real clock)."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.local_now()
