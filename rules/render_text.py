"""Text output: one `path:line:col RULE-ID message` line per finding, then a summary line."""

from __future__ import annotations

from ibguard.rules.findings import CheckResult

__all__ = ["render"]


def render(result: CheckResult) -> str:
    lines = [f"{f.path}:{f.line}:{f.column} {f.rule} {f.message}" for f in result.findings]
    count = len(result.findings)
    noun = "finding" if count == 1 else "findings"
    lines.append(f"{count} {noun} in {result.files_checked} files checked")
    return "\n".join(lines) + "\n"
