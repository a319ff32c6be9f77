"""The host's real wall clock as the `Clock` port: the one place the shell reads it."""

from __future__ import annotations

from datetime import datetime, timezone

from ibguard.engine.ports import Clock

__all__ = ["SystemClock"]


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(timezone.utc)
