"""The lifecycle diagram in the docs is drawn from the transition table, never by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_docs_lifecycle_diagram_matches_the_transition_table() -> None:
    spec = importlib.util.spec_from_file_location(
        "diagram", ROOT / "docs/make_lifecycle_diagram.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs/lifecycle.md").read_text()
    assert committed == module.render(), (
        "run: python docs/make_lifecycle_diagram.py > docs/lifecycle.md"
    )
