"""Every rule's VALID and INVALID samples, one test each (the Fixit model)."""

from __future__ import annotations

import pytest
from ibguard.rules.base import Invalid, Rule, Valid
from ibguard.rules.registry import RULES
from ibguard.rules.samples import run_sample


def _cases() -> list[object]:
    cases: list[object] = []
    for rule in RULES:
        for number, valid in enumerate(rule.VALID, start=1):
            cases.append(pytest.param(rule, valid, id=f"{rule.id}-valid-{number}"))
        for number, invalid in enumerate(rule.INVALID, start=1):
            cases.append(pytest.param(rule, invalid, id=f"{rule.id}-invalid-{number}"))
    return cases


@pytest.mark.parametrize(("rule", "sample"), _cases())
def test_sample(rule: type[Rule], sample: Valid | Invalid) -> None:
    reports = run_sample(rule, sample)
    if isinstance(sample, Valid):
        assert reports == [], sample.source
        return
    where = [(r.line, r.column) for r in reports]
    assert where, f"no finding in:\n{sample.source}"
    assert where[0] == (sample.line, sample.column), (where, sample.source)
    assert len(reports) == sample.count, ([r.message for r in reports], sample.source)
    assert {r.rule for r in reports} == {rule.id}
