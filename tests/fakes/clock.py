"""A Clock port that moves only when told (trio's MockClock idea)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ibguard.engine.ports import Clock

START = datetime(2024, 1, 2, 14, 31, 5, tzinfo=timezone.utc)


class ManualClock(Clock):
    def __init__(self, start: datetime = START) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> None:
        """Move on by `seconds` and/or timedelta keywords (`days=1`); never back."""
        self._now += timedelta(seconds=seconds, **delta)
