"""The kill -9 trials' hook: the service really dies (SIGKILL) at the chosen journal write,
with exactly the events before (or through) that write stored."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from ibguard.engine.errors import ConfigError
from ibguard.engine.events import Event, NextValidId
from ibguard.engine.shell.crash_points import CRASH_ENV, CrashingJournal, crash_point
from ibguard.engine.shell.journal import SqliteJournal


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("3", (3, False)), ("3:before", (3, False)), ("12:after", (12, True))],
)
def test_the_crash_point_comes_from_the_environment(
    value: str | None, expected: tuple[int, bool] | None
) -> None:
    environ = {} if value is None else {CRASH_ENV: value}
    assert crash_point(environ) == expected


@pytest.mark.parametrize("value", ["", "0", "x", "3:during", "-1"])
def test_a_malformed_crash_point_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match=CRASH_ENV):
        crash_point({CRASH_ENV: value})


def _die_writing(path: Path, at: int, after: bool, batches: list[list[Event]]) -> int:
    """Write `batches` through a CrashingJournal in a forked child; its wait status."""
    pid = os.fork()
    if pid == 0:  # the child: write until the crash point kills it
        journal = CrashingJournal(SqliteJournal(path), at, after=after)
        for batch in batches:
            journal.append_all(batch)
        os._exit(0)  # not reached when the crash point lies within the batches
    _, status = os.waitpid(pid, 0)
    return status


@pytest.mark.parametrize(("after", "stored"), [(False, 3), (True, 4)])
def test_the_service_dies_by_sigkill_at_the_chosen_write_even_inside_a_batch(
    tmp_path: Path, after: bool, stored: int
) -> None:
    events: list[Event] = [NextValidId(order_id=n) for n in range(1, 8)]
    path = tmp_path / "j.sqlite"
    status = _die_writing(path, 4, after, [events[:2], events[2:6], events[6:]])
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) == signal.SIGKILL
    assert list(SqliteJournal(path).events()) == events[:stored]


def test_a_crash_point_beyond_the_writes_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    events: list[Event] = [NextValidId(order_id=n) for n in range(1, 4)]
    status = _die_writing(path, 99, False, [events[:1], events[1:]])
    assert os.WIFEXITED(status)
    assert os.WEXITSTATUS(status) == 0
    journal = CrashingJournal(SqliteJournal(path), 99, after=False)
    assert list(journal.events()) == events
    journal.append(NextValidId(order_id=9))
    assert len(list(journal.events())) == 4


def test_the_crash_comes_at_the_chosen_write_and_not_before(tmp_path: Path) -> None:
    deaths: list[int] = []
    journal = CrashingJournal(
        SqliteJournal(tmp_path / "j.sqlite"), 3, after=True, die=lambda: deaths.append(1)
    )
    journal.append(NextValidId(order_id=1))
    journal.append_all([NextValidId(order_id=2)])
    assert deaths == []
    journal.append_all([NextValidId(order_id=3), NextValidId(order_id=4)])
    assert deaths == [1]
    assert [e.order_id for e in journal.events()] == [1, 2, 3]  # type: ignore[attr-defined]  # NextValidIds
    first = CrashingJournal(
        SqliteJournal(tmp_path / "k.sqlite"), 1, after=False, die=lambda: deaths.append(2)
    )
    first.append_all([NextValidId(order_id=1), NextValidId(order_id=2)])
    assert deaths == [1, 2]
    assert list(first.events()) == []  # dead before its very first write
