"""A Clock port that moves only when told (trio's MockClock idea)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ibguard.engine.ports import Clock


class ManualClock(Clock):
    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
