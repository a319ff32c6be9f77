"""The reconnect policy: exponential backoff between connect attempts, and when to give up.

Pure arithmetic; the connector does the waiting with an injected sleep, so tests never
wait for real. Delays are seconds of wall time (connection housekeeping, not money).
"""

from __future__ import annotations

from dataclasses import dataclass

from ibguard.engine.errors import UsageError

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """Before the n-th attempt in a row (n >= 1, counted since the last good session)
    wait `initial * factor**(n-1)`, at most `maximum`; stop after `max_attempts` failed
    attempts in a row (None: never stop)."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    max_attempts: int | None = 20

    def __post_init__(self) -> None:
        if self.initial < 0 or self.maximum < self.initial or self.factor < 1:
            raise UsageError(f"backoff needs 0 <= initial <= maximum and factor >= 1, got {self!r}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise UsageError(f"max_attempts must be >= 1 or None, got {self.max_attempts}")

    def delay(self, attempt: int) -> float:
        if attempt < 1:
            raise UsageError(f"attempts are counted from 1, got {attempt}")
        delay = self.initial
        for _ in range(attempt - 1):  # stepwise: a long outage must not overflow a float
            if delay >= self.maximum:
                break
            delay *= self.factor
        return min(delay, self.maximum)

    def exhausted(self, failures: int) -> bool:
        return self.max_attempts is not None and failures >= self.max_attempts
