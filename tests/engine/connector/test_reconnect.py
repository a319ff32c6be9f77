"""The backoff policy: growing delays with a ceiling, and when to give up."""

from __future__ import annotations

import pytest
from ibguard.engine.connector.reconnect import Backoff
from ibguard.engine.errors import UsageError


def test_delays_double_up_to_the_maximum() -> None:
    backoff = Backoff(initial=0.5, factor=2, maximum=3)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_long_outage_does_not_overflow() -> None:
    assert Backoff(initial=1, factor=10, maximum=60).delay(10_000) == 60


def test_giving_up() -> None:
    assert not Backoff(max_attempts=3).exhausted(2)
    assert Backoff(max_attempts=3).exhausted(3)
    assert not Backoff(max_attempts=None).exhausted(10**6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": -1.0},
        {"initial": 5.0, "maximum": 1.0},
        {"factor": 0.5},
        {"max_attempts": 0},
    ],
)
def test_invalid_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_attempts_count_from_one() -> None:
    with pytest.raises(UsageError):
        Backoff().delay(0)
