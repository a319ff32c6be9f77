"""The one record every checker produces: a `Finding`, and the ids of runner-level findings.

A finding's `path` is POSIX-style and relative to the project root; `line` and `column` are
1-based (the convention of compilers, editors and SARIF). Findings sort by place, then rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, final

__all__ = [
    "IGNORE_NO_REASON",
    "IGNORE_UNUSED",
    "META_RULES",
    "PARSE_ERROR",
    "CheckResult",
    "Finding",
]

PARSE_ERROR: Final = "PARSE-ERROR"
IGNORE_NO_REASON: Final = "IGNORE-NO-REASON"
IGNORE_UNUSED: Final = "IGNORE-UNUSED"

# Findings the runner itself reports (not rule classes): id -> one-line description.
META_RULES: Final[dict[str, str]] = {
    PARSE_ERROR: "The file could not be parsed, so no rule could check it.",
    IGNORE_NO_REASON: "An `# ibguard: ignore[...]` comment gives no reason.",
    IGNORE_UNUSED: "An `# ibguard: ignore[...]` comment suppresses nothing on its line.",
}


@final
@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One problem at one place in one file."""

    path: str
    line: int
    column: int
    rule: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Finding:
        return cls(
            path=str(data["path"]),
            line=int(str(data["line"])),
            column=int(str(data["column"])),
            rule=str(data["rule"]),
            message=str(data["message"]),
        )


@final
@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one `ibguard check` found: findings in order, and how many files it checked.

    `files_parsed` counts the files the rules parsed on this run (the rest came from the
    cache); `workers` is how many processes parsed them (1: in this process).
    """

    findings: tuple[Finding, ...]
    files_checked: int
    files_parsed: int = 0
    workers: int = 1
