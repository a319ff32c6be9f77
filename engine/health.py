"""Health of a running engine as data: each named check passes or fails with a reason.

The core computes a `HealthReport`; the shell's HTTP server only renders it (200 when
healthy, 503 with the failed checks otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

__all__ = ["HealthCheck", "HealthReport"]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HealthCheck:
    name: str
    ok: bool
    reason: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HealthReport:
    checks: tuple[HealthCheck, ...]

    @property
    def healthy(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> tuple[HealthCheck, ...]:
        return tuple(check for check in self.checks if not check.ok)
