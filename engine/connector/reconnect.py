"""The reconnect policy: capped exponential backoff between connect attempts, forever.

Pure arithmetic; the connector does the waiting with an injected sleep and draws the jitter
from its own seeded random source, so tests never wait for real and see the same delays
every run. Delays are seconds of wall time (connection housekeeping, not money).

Never giving up is deliberate: a broker outage (TWS restart, nightly reset, network) ends
by itself, and an engine that stopped trying would sit with /health 503 until an operator
restarts it. While it waits, /health says "broker connection down", and every failed
attempt is logged with CONNECTION_LOST, its number and the next delay.
"""

from __future__ import annotations

from dataclasses import dataclass

from ibguard.engine.errors import UsageError

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """Before the n-th attempt in a row (n >= 1, counted since the last good session)
    wait `initial * factor**(n-1)`, at most `maximum`, shortened by up to `jitter` of
    itself (a fraction in [0, 1)) so that many clients of one gateway do not retry in step."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.initial < 0 or self.maximum < self.initial or self.factor < 1:
            raise UsageError(f"backoff needs 0 <= initial <= maximum and factor >= 1, got {self!r}")
        if not 0 <= self.jitter < 1:
            raise UsageError(f"jitter must be a fraction in [0, 1), got {self.jitter}")

    def delay(self, attempt: int, draw: float = 0.0) -> float:
        """The wait before `attempt`; `draw` in [0, 1] picks the jitter (0: none)."""
        if attempt < 1:
            raise UsageError(f"attempts are counted from 1, got {attempt}")
        if not 0 <= draw <= 1:
            raise UsageError(f"a jitter draw lies in [0, 1], got {draw}")
        delay = self.initial
        for _ in range(attempt - 1):  # stepwise: a long outage must not overflow a float
            if delay >= self.maximum:
                break
            delay *= self.factor
        return min(delay, self.maximum) * (1 - self.jitter * draw)
