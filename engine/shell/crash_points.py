"""Test-only crash injection for the kill -9 trials: the service dies at a chosen journal write.

With `IBGUARD_CRASH_AT_JOURNAL_WRITE=N` (or `N:before`) in its environment, the service
kills itself with SIGKILL just before its N-th event of this run is written to the journal;
with `N:after`, right after that write and before the engine handles the event. Batches are
cut at N, so the crash point is the same whatever the batching. Unset (production) nothing
is wrapped. A malformed value is a `ConfigError`: a crash trial that silently did not crash
would pass for the wrong reason.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final

from ibguard.engine.errors import ConfigError
from ibguard.engine.events import Event
from ibguard.engine.ports import Journal

__all__ = ["CRASH_ENV", "CrashingJournal", "crash_point"]

CRASH_ENV: Final = "IBGUARD_CRASH_AT_JOURNAL_WRITE"
_PHASES: Final = {"before": False, "after": True}


def crash_point(environ: Mapping[str, str]) -> tuple[int, bool] | None:
    """(N, after) from the environment, or None when no crash is asked for."""
    raw = environ.get(CRASH_ENV)
    if raw is None:
        return None
    number, _, phase = raw.partition(":")
    if not number.isdigit() or int(number) < 1 or (phase or "before") not in _PHASES:
        raise ConfigError([f"{CRASH_ENV}: must be N, N:before or N:after with N >= 1, got {raw!r}"])
    return int(number), _PHASES[phase or "before"]


def _sigkill() -> None:  # pragma: no cover - it runs in the process it kills (tested forked)
    os.kill(os.getpid(), signal.SIGKILL)


class CrashingJournal(Journal):
    """`inner`, until the chosen write: then SIGKILL, as a power cut or OOM kill would."""

    def __init__(
        self, inner: Journal, at: int, *, after: bool, die: Callable[[], None] | None = None
    ) -> None:
        self.inner = inner
        self._at = at
        self._after = after
        self._die = die or _sigkill  # tests may watch it instead of dying
        self._written = 0

    def append(self, event: Event) -> None:
        self.append_all((event,))

    def append_all(self, events: Sequence[Event]) -> None:
        index = self._at - self._written - 1  # position of the crash write in this batch
        if not 0 <= index < len(events):
            self._written += len(events)
            self.inner.append_all(events)
            return
        kept = events[: index + 1] if self._after else events[:index]
        if kept:
            self.inner.append_all(kept)
        self._die()

    def events(self) -> Iterator[Event]:
        return self.inner.events()
