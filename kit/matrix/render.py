"""Renderers of matrix results: a terminal table, JSON and Markdown (JUnit is pytest's own
junitxml with per-case properties). Each returns a string; printing is the caller's job."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ibguard.kit.matrix.catalog import case
from ibguard.kit.matrix.results import CaseResult

__all__ = ["render_json", "render_markdown", "render_table", "summary_line"]

_HEADERS = ("id", "name", "result", "code seen", "cost when it failed")


def _rows(results: Sequence[CaseResult]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in results:
        entry = case(r.id)
        cost = entry.cost if r.result == "fail" else ""
        rows.append((r.id, entry.name, r.result.upper(), r.code or "-", cost))
    return rows


def render_table(results: Sequence[CaseResult]) -> str:
    rows = [_HEADERS, *_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADERS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([*lines, summary_line(results)]) + "\n"


def summary_line(results: Sequence[CaseResult]) -> str:
    counts = {
        k: sum(1 for r in results if r.result == k) for k in ("pass", "fail", "xfail", "skip")
    }
    parts = [f"{n} {k}" for k, n in counts.items() if n]
    return f"ibguard matrix: {len(results)} cases: {', '.join(parts) or 'none run'}"


def render_json(results: Sequence[CaseResult]) -> str:
    return json.dumps([r.to_dict() for r in results], indent=2) + "\n"


def render_markdown(results: Sequence[CaseResult]) -> str:
    lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(results)]
    return "\n".join([*lines, "", summary_line(results)]) + "\n"
