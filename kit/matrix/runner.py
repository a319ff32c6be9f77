"""Playing one case against one subject: the single path both pytest and `ibguard matrix` use.

Owns `play(test_id, ...)`: check capabilities, build stages, run the case's behaviour (in
the variant the test id names, `LIFE-03[short]`), close everything, and hand back what was
observed (log codes the case expects that were seen, figures). Failures propagate as
`CaseFailure`, `SubjectError` (the subject raised: a crash is a failure too, named by its
method) or `CaseTimeout` (past `timeout` seconds, naming the method it hangs in); a missing
capability raises `MissingCapability` for the caller to skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, final

from ibguard.errors import UsageError
from ibguard.kit.matrix.casebook import behaviour
from ibguard.kit.matrix.catalog import case
from ibguard.kit.matrix.drivers import Driver
from ibguard.kit.matrix.stage import StageMaker
from ibguard.kit.matrix.subject import Subject
from ibguard.kit.matrix.subject_calls import CallLog, case_deadline

__all__ = ["MissingCapability", "Observed", "play"]


class MissingCapability(Exception):
    """The subject does not declare what the case needs; the case is skipped."""


@final
@dataclass
class Observed:
    """What a case saw, filled in even when it fails."""

    codes_seen: tuple[str, ...] = ()
    figures: dict[str, str] = field(default_factory=dict)


CLOSE_TIMEOUT: Final = 10.0  # seconds to stop the subjects once the case has ended


def play(
    test_id: str,
    subject_factory: Callable[[], Subject],
    driver_factory: Callable[[], Driver],
    *,
    capabilities: Iterable[str] | None = None,
    observed: Observed | None = None,
    timeout: float = 0,
) -> Observed:
    """Play `test_id` (a case id, or `ID[variant]`); `timeout` > 0 bounds it in seconds."""
    entry = case(test_id)
    variant = test_id[len(entry.id) :].strip("[]")
    if variant not in (entry.variants or ("",)):
        raise UsageError(f"{entry.id} has no variant {variant!r}; see ibguard matrix --list")
    plan = behaviour(entry.id)
    observed = observed if observed is not None else Observed()
    if plan.needs:
        have = set(capabilities) if capabilities is not None else None
        if have is None:
            have = set(subject_factory().capabilities)
        missing = sorted(plan.needs - have)
        if missing:
            raise MissingCapability(f"{entry.id} needs subject capabilities {', '.join(missing)}")
    maker = StageMaker(subject_factory, driver_factory, variant=variant, calls=CallLog())
    try:
        with case_deadline(timeout, maker.calls, test_id):
            plan.play(maker)
    finally:
        try:
            with case_deadline(min(timeout, CLOSE_TIMEOUT), maker.calls, f"{test_id} (stop)"):
                maker.close()
        finally:
            seen = set(maker.codes())
            observed.codes_seen = tuple(c for c in entry.codes if c in seen)
            observed.figures = maker.figures()
    return observed
