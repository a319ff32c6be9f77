"""Playing one case against one subject: the single path both pytest and `ibguard matrix` use.

Owns `play(case_id, ...)`: check capabilities, build stages, run the case's behaviour, close
everything, and hand back what was observed (log codes the case expects that were seen,
figures). Failures propagate as `CaseFailure` (or whatever the subject raised: a crash is a
failure too); a missing capability raises `MissingCapability` for the caller to skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import final

from ibguard.kit.matrix.casebook import behaviour
from ibguard.kit.matrix.catalog import case
from ibguard.kit.matrix.drivers import Driver
from ibguard.kit.matrix.stage import StageMaker
from ibguard.kit.matrix.subject import Subject

__all__ = ["MissingCapability", "Observed", "play"]


class MissingCapability(Exception):
    """The subject does not declare what the case needs; the case is skipped."""


@final
@dataclass
class Observed:
    """What a case saw, filled in even when it fails."""

    codes_seen: tuple[str, ...] = ()
    figures: dict[str, str] = field(default_factory=dict)


def play(
    case_id: str,
    subject_factory: Callable[[], Subject],
    driver_factory: Callable[[], Driver],
    *,
    capabilities: Iterable[str] | None = None,
    observed: Observed | None = None,
) -> Observed:
    entry = case(case_id)
    plan = behaviour(case_id)
    observed = observed if observed is not None else Observed()
    if plan.needs:
        have = set(capabilities) if capabilities is not None else None
        if have is None:
            have = set(subject_factory().capabilities)
        missing = sorted(plan.needs - have)
        if missing:
            raise MissingCapability(f"{case_id} needs subject capabilities {', '.join(missing)}")
    maker = StageMaker(subject_factory, driver_factory)
    try:
        plan.play(maker)
    finally:
        try:
            maker.close()
        finally:
            seen = set(maker.codes())
            observed.codes_seen = tuple(c for c in entry.codes if c in seen)
            observed.figures = maker.figures()
    return observed
