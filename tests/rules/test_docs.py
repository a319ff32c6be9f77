"""docs/rules.md is generated from the rule classes and must not go stale."""

from __future__ import annotations

from pathlib import Path

from ibguard.rules.docs import render
from ibguard.rules.registry import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_rules_doc_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/rules.md is stale; regenerate it with ibguard.rules.docs.write('docs/rules.md')"
    )


def test_rules_doc_names_every_rule_and_what_it_cannot_see() -> None:
    text = render()
    for rule in RULES:
        assert f"## {rule.id}" in text
        assert rule.CANNOT in text
