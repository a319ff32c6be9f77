"""Renderers of matrix results: a terminal table, JSON, Markdown and JUnit XML. Each returns
a string; printing is the caller's job. Every report shows the test id with its variant
(`LIFE-03[short]`) and, for a case that did not pass, one line of why: what failed, the
capability that made it skip, the reason it is expected to fail."""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.etree import ElementTree

from ibguard.kit.matrix.catalog import case
from ibguard.kit.matrix.results import CaseResult

__all__ = ["render_json", "render_junit", "render_markdown", "render_table", "summary_line"]

_HEADERS = ("id", "name", "result", "code seen", "cost when it failed", "why")
_WHY_WIDTH = 110  # the table's last column is cut here; JSON, JUnit and Markdown keep it whole


def _rows(results: Sequence[CaseResult], why_width: int | None) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in results:
        entry = case(r.id)
        cost = entry.cost if r.result == "fail" else ""
        why = r.reason if r.result != "pass" else ""
        if why_width is not None and len(why) > why_width:
            why = why[: why_width - 3] + "..."
        rows.append((r.test_id, entry.name, r.result.upper(), r.code or "-", cost, why))
    return rows


def render_table(results: Sequence[CaseResult]) -> str:
    rows = [_HEADERS, *_rows(results, _WHY_WIDTH)]
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


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(results: Sequence[CaseResult]) -> str:
    lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
    lines += [
        "| " + " | ".join(_markdown_cell(cell) for cell in row) + " |"
        for row in _rows(results, None)
    ]
    return "\n".join([*lines, "", summary_line(results)]) + "\n"


def render_junit(results: Sequence[CaseResult]) -> str:
    """JUnit XML (xunit2): one testcase per test id, the catalog facts as properties."""
    root = ElementTree.Element("testsuites")
    suite = ElementTree.SubElement(
        root,
        "testsuite",
        name="ibguard matrix",
        tests=str(len(results)),
        failures=str(sum(r.result == "fail" for r in results)),
        skipped=str(sum(r.result in ("skip", "xfail") for r in results)),
        errors="0",
        time=f"{sum(r.duration_s for r in results):.3f}",
    )
    for r in results:
        entry = case(r.id)
        testcase = ElementTree.SubElement(
            suite,
            "testcase",
            classname="ibguard-matrix",
            name=r.test_id,
            time=f"{r.duration_s:.3f}",
        )
        properties = ElementTree.SubElement(testcase, "properties")
        facts = {
            "id": r.id,
            "variant": r.variant,
            "category": entry.category,
            "cost": entry.cost,
            "code": r.code,
            "figures": json.dumps(dict(r.figures), sort_keys=True),
        }
        for name, value in facts.items():
            ElementTree.SubElement(properties, "property", name=name, value=value)
        if r.result == "fail":
            ElementTree.SubElement(testcase, "failure", message=r.reason).text = r.reason
        elif r.result in ("skip", "xfail"):
            ElementTree.SubElement(testcase, "skipped", message=r.reason)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, "unicode") + "\n"
