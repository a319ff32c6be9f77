"""Each deliberately broken engine fails exactly the cases its bug is about."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ibguard.kit.matrix.catalog import CASES
from ibguard.kit.matrix.drivers import InProcessDriver
from ibguard.kit.matrix.runner import play
from ibguard.kit.matrix.stage import CaseFailure
from ibguard.kit.matrix.subject import Subject

from tests.matrix.broken_engines import duplicate_exec_ids, order_id_keys, resubmit_on_reconnect

FAST = [c.id for c in CASES if c.category not in ("PERF", "BOUNDARY")]


def _failing(factory: Callable[[], Subject]) -> set[str]:
    failed = set()
    for case_id in FAST:
        try:
            play(case_id, factory, InProcessDriver)
        except CaseFailure:
            failed.add(case_id)
    return failed


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        pytest.param(duplicate_exec_ids.make_subject, {"LIFE-05"}, id="duplicate-exec-ids"),
        pytest.param(
            order_id_keys.make_subject,
            {"CONN-01", "CONN-02", "FAIL-05", "FAIL-06"},
            id="keyed-by-order-id",
        ),
        pytest.param(resubmit_on_reconnect.make_subject, {"CONN-01"}, id="resubmit-on-reconnect"),
    ],
)
def test_broken_engine_fails_exactly(factory: Callable[[], Subject], expected: set[str]) -> None:
    assert _failing(factory) == expected


def test_reference_engine_passes_the_fast_cases() -> None:
    from ibguard.kit.matrix.reference import make_subject

    assert _failing(make_subject) == set()
