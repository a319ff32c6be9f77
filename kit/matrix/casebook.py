"""Which code plays which catalog case: the registry the `cases_*` modules fill.

Owns `implements(case_id, *needs)` (the decorator a case function wears) and `behaviour()`
(the lookup). Invariants: every catalog id has exactly one implementation; `needs` names
subject capabilities (see subject.py); a case function takes a `StageMaker` and raises
`CaseFailure` when the subject misbehaves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, final

from ibguard.errors import InternalError
from ibguard.kit.matrix.catalog import CASES
from ibguard.kit.matrix.stage import StageMaker

__all__ = ["CaseBehaviour", "behaviour", "implemented", "implements"]

CaseFunction = Callable[[StageMaker], None]

_MODULES: Final = (
    "ibguard.kit.matrix.cases_conn",
    "ibguard.kit.matrix.cases_conn_next",
    "ibguard.kit.matrix.cases_life",
    "ibguard.kit.matrix.cases_life_next",
    "ibguard.kit.matrix.cases_fail",
    "ibguard.kit.matrix.cases_boundary",
    "ibguard.kit.matrix.cases_perf",
    "ibguard.kit.matrix.cases_sec_ops",
    "ibguard.kit.matrix.cases_ops_next",
    "ibguard.kit.matrix.cases_edge",
    "ibguard.kit.matrix.cases_recon_edge_next",
)
_REGISTRY: dict[str, CaseBehaviour] = {}


@final
@dataclass(frozen=True, slots=True)
class CaseBehaviour:
    case_id: str
    needs: frozenset[str]
    play: CaseFunction


def implements(case_id: str, *needs: str) -> Callable[[CaseFunction], CaseFunction]:
    def register(function: CaseFunction) -> CaseFunction:
        known = _REGISTRY.get(case_id)
        if known is not None and _origin(known.play) != _origin(function):
            raise InternalError(f"{case_id} is implemented twice")  # a re-import is fine
        _REGISTRY[case_id] = CaseBehaviour(case_id, frozenset(needs), function)
        return function

    return register


def _origin(function: CaseFunction) -> tuple[str, str]:
    return function.__module__, function.__qualname__


def behaviour(case_id: str) -> CaseBehaviour:
    for module in _MODULES:
        importlib.import_module(module)
    if case_id not in _REGISTRY:
        raise InternalError(f"{case_id} has no implementation")
    return _REGISTRY[case_id]


def implemented() -> tuple[str, ...]:
    """The catalog ids that have a behaviour, in catalog order."""
    for module in _MODULES:
        importlib.import_module(module)
    return tuple(c.id for c in CASES if c.id in _REGISTRY)
