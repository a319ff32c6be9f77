"""The one record every checker produces: a `Finding`, and the ids of runner-level findings.

A finding's `path` is POSIX-style and relative to the project root; `line` and `column` are
1-based (the convention of compilers, editors and SARIF). Findings sort by place, then rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, final

__all__ = [
    "CHECK_CRASHED",
    "CHECK_TIMEOUT",
    "FILE_TOO_LARGE",
    "IGNORE_NO_REASON",
    "IGNORE_UNUSED",
    "META_RULES",
    "NESTED_TOO_DEEP",
    "PARSE_ERROR",
    "READ_ERROR",
    "SYMLINK_LOOP",
    "CheckResult",
    "Finding",
]

PARSE_ERROR: Final = "PARSE-ERROR"
READ_ERROR: Final = "READ-ERROR"
SYMLINK_LOOP: Final = "SYMLINK-LOOP"
FILE_TOO_LARGE: Final = "FILE-TOO-LARGE"
NESTED_TOO_DEEP: Final = "NESTED-TOO-DEEP"
CHECK_TIMEOUT: Final = "CHECK-TIMEOUT"
CHECK_CRASHED: Final = "CHECK-CRASHED"
IGNORE_NO_REASON: Final = "IGNORE-NO-REASON"
IGNORE_UNUSED: Final = "IGNORE-UNUSED"

# Findings the runner itself reports (not rule classes): id -> one-line description.
# Each means "no rule checked this file (or folder)": the run goes on, the report says why.
META_RULES: Final[dict[str, str]] = {
    PARSE_ERROR: "The file could not be parsed, so no rule could check it.",
    READ_ERROR: "The file or folder could not be read (permissions, not a regular file, gone).",
    SYMLINK_LOOP: "The path is a symbolic link that leads back to itself.",
    FILE_TOO_LARGE: "The file is larger than the size limit, so it was not parsed.",
    NESTED_TOO_DEEP: "The code nests deeper than the parser can safely follow.",
    CHECK_TIMEOUT: "Checking the file took longer than the time limit; it was stopped.",
    CHECK_CRASHED: "The process checking the file died (e.g. the parser crashed on it).",
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
