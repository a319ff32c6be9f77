"""A log line's time is exactly what `datetime.fromtimestamp(..., utc).isoformat()` writes."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st
from ibguard.engine.shell.record_time import RecordTime

EDGES = [
    0.0,
    1_764_000_000.0,  # a whole second: no fraction shown
    1_764_000_000.0000005,  # half a microsecond: rounds to even
    1_764_000_000.9999996,  # rounds up into the next second
    1_764_000_000.9999994,
    1_764_000_001.5,
    -1.0000004,  # before 1970: the fraction is negative
    -0.5,
]


def _expected(created: float) -> str:
    return datetime.fromtimestamp(created, timezone.utc).isoformat()


def test_the_text_matches_fromtimestamp_at_the_edges_in_any_order() -> None:
    times = RecordTime()
    for created in EDGES + EDGES[::-1] + EDGES:  # the remembered second changes both ways
        assert times.text(created) == _expected(created)


@given(st.lists(st.floats(min_value=-1e9, max_value=4e9), min_size=1, max_size=20))
def test_the_text_matches_fromtimestamp_for_any_run_of_times(created: list[float]) -> None:
    times = RecordTime()
    for each in sorted(created) + created:  # a second reused, then jumps back and forth
        assert times.text(each) == _expected(each)


def _expected_ns(ns: int) -> str:
    whole, nanos = divmod(ns, 1_000_000_000)
    second = datetime.fromtimestamp(whole, timezone.utc)
    return second.replace(microsecond=nanos // 1000).isoformat()


@given(st.lists(st.integers(min_value=-(10**18), max_value=4 * 10**18), min_size=1, max_size=20))
def test_the_text_of_time_ns_matches_fromtimestamp_truncated(readings: list[int]) -> None:
    times = RecordTime()
    near = [r + step for r in readings[:3] for step in (0, 1, 999, 1000, 999_999_999, 10**9)]
    for ns in [0, *sorted(readings), *near, *readings]:  # within, across, back to a second
        assert times.text_ns(ns) == _expected_ns(ns)
