"""GitHub Actions output: one `::error file=...,line=...,col=...,title=RULE::message` line each.

Values are escaped as the Actions toolkit does (`%`, CR, LF everywhere; `:` and `,` in
properties), so a message can never end an annotation early.
"""

from __future__ import annotations

from ibguard.rules.findings import CheckResult

__all__ = ["render"]


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: CheckResult) -> str:
    lines = [
        f"::error file={_property(f.path)},line={f.line},col={f.column},"
        f"title={_property(f.rule)}::{_data(f.message)}"
        for f in result.findings
    ]
    return "".join(line + "\n" for line in lines)
