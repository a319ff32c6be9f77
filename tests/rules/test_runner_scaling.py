"""The check stays linear in the size of a file: no step repeats work per use of a name."""

from __future__ import annotations

import pytest
from ibguard.rules.base import Target
from ibguard.rules.checking import check_source
from ibguard.rules.project_index import ProjectIndex
from ibguard.rules.registry import rules_for
from ibguard.rules.resolution import ModuleResolver


def _evaluations(monkeypatch: pytest.MonkeyPatch, assignments: int) -> int:
    """How many bindings the rules evaluate on a module that assigns one name `n` times."""
    calls = 0
    evaluate = ModuleResolver._evaluate

    def counting(self: ModuleResolver, binding: object) -> object:
        nonlocal calls
        calls += 1
        return evaluate(self, binding)  # type: ignore[arg-type]

    monkeypatch.setattr(ModuleResolver, "_evaluate", counting)
    source = "".join(
        f"price = compute({i}, price)\nresult.append(price * 2)\n" for i in range(assignments)
    )
    check_source(
        source,
        module_name="app.engine.generated",
        is_package=False,
        index=ProjectIndex(broker_libraries=("ib_async",)),
        rules=rules_for(Target.ENGINE),
    )
    return calls


def test_a_name_assigned_thousands_of_times_is_resolved_once_not_once_per_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = _evaluations(monkeypatch, 500)
    large = _evaluations(monkeypatch, 2_000)
    # Linear: 4x the assignments, about 4x the work (it was 16x: every use walked them all).
    assert large <= 5 * small
