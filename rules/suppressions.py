"""`# ibguard: ignore[RULE-ID, ...] reason` comments: parsed here, and nowhere else.

A suppression covers findings on its own line; a comment alone on a line covers the next line.
The reason is required: without one the suppression still applies but is itself a finding
(IGNORE-NO-REASON). A suppression naming a rule that ran on the file and found nothing there is
reported as IGNORE-UNUSED, so stale ignores do not pile up.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

from ibguard.rules.findings import IGNORE_NO_REASON, IGNORE_UNUSED, Finding

__all__ = ["Suppression", "apply", "parse"]

_COMMENT: Final = re.compile(r"#\s*ibguard:\s*ignore\[(?P<ids>[^\]]*)\](?P<reason>.*)$")


@dataclass(frozen=True, slots=True)
class Suppression:
    line: int  # the line whose findings it covers
    column: int  # 1-based, of the comment
    comment_line: int
    rules: frozenset[str]
    reason: str


def parse(source: str) -> list[Suppression]:
    """Every suppression comment in `source` (none if it does not tokenize)."""
    if "ibguard:" not in source:
        return []
    found = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    code_lines = {t.start[0] for t in tokens if t.type not in _NON_CODE}
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _COMMENT.search(token.string)
        if match is None:
            continue
        line = token.start[0]
        covers = line if line in code_lines else line + 1
        rules = frozenset(part.strip() for part in match["ids"].split(",") if part.strip())
        reason = match["reason"].strip(" \t:-—")
        found.append(Suppression(covers, token.start[1] + 1, line, rules, reason))
    return found


_NON_CODE: Final = frozenset(
    {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
)


def apply(
    findings: Sequence[Finding],
    suppressions: Sequence[Suppression],
    *,
    path: str,
    rules_run: Collection[str],
) -> list[Finding]:
    """Findings left after suppression, plus the suppressions' own findings."""
    kept: list[Finding] = []
    used: set[tuple[int, str]] = set()
    for finding in findings:
        hit = next(
            (s for s in suppressions if s.line == finding.line and finding.rule in s.rules), None
        )
        if hit is None:
            kept.append(finding)
        else:
            used.add((hit.comment_line, finding.rule))
    for s in suppressions:
        if not s.reason:
            kept.append(
                Finding(
                    path,
                    s.comment_line,
                    s.column,
                    IGNORE_NO_REASON,
                    "suppression without a reason; write why after the ] ",
                )
            )
        for rule in sorted(s.rules):
            if rule in rules_run and (s.comment_line, rule) not in used:
                kept.append(
                    Finding(
                        path,
                        s.comment_line,
                        s.column,
                        IGNORE_UNUSED,
                        f"nothing to suppress: {rule} reports nothing here; remove the comment",
                    )
                )
    return kept
