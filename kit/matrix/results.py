"""One case's outcome as data: what every report (table, JSON, Markdown, JUnit) renders.

Invariant: `result` is one of RESULTS; `variant` names the catalog variant played ("" for a
case without variants; `test_id` is then `ID[variant]`); `reason` is one line (why it
failed, what made it skip, why it is expected to fail); `code` names the catalog log codes
the case expects that the subject did log (comma-separated, "" for none); `figures` are
measured numbers (PERF) as strings, and `fields_unchecked` names the log fields a case could
only check by code because the subject offers no log records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, final

from ibguard.errors import UsageError

__all__ = ["RESULTS", "CaseResult"]

RESULTS: Final = ("pass", "fail", "xfail", "skip")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CaseResult:
    id: str
    result: str
    duration_s: float
    variant: str = ""
    code: str = ""
    reason: str = ""
    figures: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.result not in RESULTS:
            raise UsageError(f"result must be one of {RESULTS}, got {self.result!r}")

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            **({"variant": self.variant} if self.variant else {}),
            "result": self.result,
            "duration_s": round(self.duration_s, 6),
            "code": self.code,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.figures:
            out["figures"] = dict(self.figures)
        return out

    @property
    def test_id(self) -> str:
        return f"{self.id}[{self.variant}]" if self.variant else self.id

    @property
    def unexpected(self) -> bool:
        return self.result == "fail"
