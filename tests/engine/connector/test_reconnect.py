"""The backoff policy: growing delays with a ceiling and jitter, never giving up."""

from __future__ import annotations

import pytest
from ibguard.engine.connector.reconnect import Backoff
from ibguard.engine.errors import UsageError


def test_delays_double_up_to_the_maximum() -> None:
    backoff = Backoff(initial=0.5, factor=2, maximum=3, jitter=0)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_long_outage_does_not_overflow() -> None:
    assert Backoff(initial=1, factor=10, maximum=60).delay(10_000) == 60


def test_jitter_shortens_a_delay_by_at_most_its_fraction() -> None:
    backoff = Backoff(initial=1, maximum=8, jitter=0.25)
    assert backoff.delay(4, 0.0) == 8
    assert backoff.delay(4, 1.0) == 6
    assert backoff.delay(4, 0.5) == 7
    assert backoff.delay(10**6, 1.0) == 6  # capped, forever


def test_no_policy_gives_up() -> None:
    assert not hasattr(Backoff(), "max_attempts")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": -1.0},
        {"initial": 5.0, "maximum": 1.0},
        {"factor": 0.5},
        {"jitter": 1.0},
        {"jitter": -0.1},
    ],
)
def test_invalid_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_attempts_count_from_one_and_draws_lie_in_the_unit_interval() -> None:
    with pytest.raises(UsageError):
        Backoff().delay(0)
    with pytest.raises(UsageError):
        Backoff().delay(1, 1.5)
