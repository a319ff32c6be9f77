"""docs/rules.md is generated from the rule classes (its staleness test is with every
generated document's, in tests/test_generated_docs.py)."""

from __future__ import annotations

from ibguard.rules.docs import render
from ibguard.rules.registry import RULES


def test_rules_doc_names_every_rule_and_what_it_cannot_see() -> None:
    text = render()
    for rule in RULES:
        assert f"## {rule.id}" in text
        assert rule.CANNOT in text
