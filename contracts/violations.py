"""The data a broken ibguard contract reports: one `Violation` per forbidden direct import.

Contracts put these in `ContractCheck.metadata["violations"]`; `render_violations` is the one
place that turns them into import-linter's console output (with the fix-it guidance), and
`ibguard check` turns the same data into findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import grimp

__all__ = ["Violation", "direct_imports", "render_violations"]


@dataclass(frozen=True, slots=True)
class Violation:
    importer: str
    imported: str
    line_number: int
    line_contents: str


def direct_imports(graph: grimp.ImportGraph, importer: str, imported: str) -> list[Violation]:
    details = graph.get_import_details(importer=importer, imported=imported)
    if not details:
        return [Violation(importer, imported, 1, "")]
    return [
        Violation(importer, imported, int(d["line_number"]), str(d["line_contents"]))
        for d in details
    ]


def render_violations(violations: Sequence[Violation], guidance: str) -> None:
    """Console output for `lint-imports` (import-linter's own output channel)."""
    from importlinter import output

    for v in violations:
        output.print_error(f"{v.importer} -> {v.imported} (l.{v.line_number})", bold=True)
        if v.line_contents:
            output.print(f"    {v.line_contents}")
    output.new_line()
    output.print(f"How to fix: {guidance}")
