"""Isolated workers: run one function over many items in child processes, each item bounded.

A worker that dies on an item (libcst's native parser can SIGSEGV) or runs past the time
limit costs that item only: the item's outcome says so, the worker is replaced, and the other
items go on. `concurrent.futures` cannot do this (one dead worker breaks the whole pool, and a
running task cannot be stopped), so the loop here is small and explicit: one pipe per worker,
one item in flight per worker, `multiprocessing.connection.wait` on pipes and process
sentinels with the nearest deadline as timeout.

The shared arguments (the project index, the rule set) reach each worker once, when it starts:
inherited through fork where that is safe (Linux, no other threads), pickled once otherwise.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Final, TypeVar

__all__ = ["Died", "Raised", "TimedOut", "run_isolated"]

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True, slots=True)
class Died:
    """The worker process ended while working on the item."""

    exitcode: int | None

    @property
    def reason(self) -> str:
        if self.exitcode is not None and self.exitcode < 0:
            try:
                return f"killed by {signal.Signals(-self.exitcode).name}"
            except ValueError:
                return f"killed by signal {-self.exitcode}"
        return f"exit code {self.exitcode}"


@dataclass(frozen=True, slots=True)
class Raised:
    """`work` raised on the item (a bug in it); the worker goes on with the next item."""

    error: str


@dataclass(frozen=True, slots=True)
class TimedOut:
    """The item used more than the time limit (CPU seconds where they can be read, else wall
    time); its worker was killed."""

    seconds: float


def _serve(
    connection: Connection,
    work: Callable[..., object],
    shared: tuple[object, ...],
    items: Sequence[object] | None,
) -> None:
    """Do items until told to stop. With `items` (inherited through fork) the parent sends
    positions in it, else the items themselves."""
    faulthandler.disable()  # a crash is reported as the item's outcome, not as a stack dump
    # What a forked worker inherits is never garbage: keep the collector off it (scanning it
    # made every worker several times slower and copied the parent's pages).
    gc.freeze()
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        item = message if items is None else items[message]
        try:
            outcome: object = (work(item, *shared),)
        except Exception as error:  # reported for the item, not raised
            outcome = Raised(f"{type(error).__name__}: {error}")
        connection.send(outcome)


@dataclass(eq=False, slots=True)
class _Worker:
    process: BaseProcess
    connection: Connection
    # positions sent and not answered yet, in order: the first is the one being worked on
    tasks: deque[int] = field(default_factory=deque)
    deadline: float = 0.0  # monotonic time of the next look at the item's cost
    wall_deadline: float = 0.0  # past this, the item is stopped whatever its CPU time
    cpu_at_start: float | None = None


# A worker that waits on nothing uses CPU all the time it works; on a loaded machine the wall
# clock runs several times faster than its CPU time. Where the CPU time can be read (Linux),
# the limit is CPU seconds, so a busy machine does not turn files into timeouts; a worker
# that makes no progress at all is stopped at this many times the limit in wall time.
_WALL_FACTOR = 5.0


def _cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) of process `pid`, or None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            fields = stat_file.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _over_limit(worker: _Worker, now: float, time_limit: float) -> TimedOut | None:
    """TimedOut if the worker's item has used up its time, else None (and a later look)."""
    used = _cpu_seconds(worker.process.pid)
    if used is None or worker.cpu_at_start is None or now >= worker.wall_deadline:
        return TimedOut(time_limit)
    left = time_limit - (used - worker.cpu_at_start)
    if left <= 0:
        return TimedOut(time_limit)
    worker.deadline = min(now + left, worker.wall_deadline)
    return None


# Items sent to a forked worker ahead of its answer (positions only; see `run_isolated`).
_IN_FLIGHT: Final = 2


def _context() -> ForkContext | SpawnContext:
    # fork shares the parent's imports and the index for free; it is unsafe with threads.
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def run_isolated(
    work: Callable[..., Result],
    items: Sequence[Item],
    shared: tuple[object, ...],
    *,
    processes: int,
    time_limit: float,
) -> Iterator[tuple[int, Result | Died | Raised | TimedOut]]:
    """(position in `items`, outcome) for every item, in completion order.

    `work(item, *shared)` must be picklable (a module-level function); what it raises becomes
    the item's `Raised` outcome.
    """
    context = _context()
    forked = isinstance(context, ForkContext)
    # Forked workers inherit `items` and are sent positions: a few bytes, so a second one can
    # wait in the pipe and a worker never idles until the parent is scheduled again (on a
    # loaded machine that wait cost as much as small files take). Spawned workers are sent
    # each item, one at a time: a large item could fill the pipe and block the parent.
    in_flight = _IN_FLIGHT if forked else 1
    pending = deque(range(len(items)))
    workers: list[_Worker] = []

    def start() -> _Worker:
        parent, child = context.Pipe()
        inherited = items if forked else None
        process = context.Process(target=_serve, args=(child, work, shared, inherited), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def begin(worker: _Worker) -> None:
        """The worker's first task starts being timed now."""
        now = time.monotonic()
        worker.deadline = now + time_limit
        worker.wall_deadline = now + time_limit * _WALL_FACTOR
        worker.cpu_at_start = _cpu_seconds(worker.process.pid)

    def give(worker: _Worker) -> None:
        while pending and len(worker.tasks) < in_flight:
            position = pending.popleft()
            worker.tasks.append(position)
            if len(worker.tasks) == 1:
                begin(worker)
            with contextlib.suppress(OSError):  # died between items: the sentinel reports it
                worker.connection.send(position if forked else items[position])

    def retire(worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join()
        worker.connection.close()
        workers.remove(worker)
        # The items sent after the lost one were not started: they go to another worker.
        worker.tasks.popleft()
        pending.extendleft(reversed(worker.tasks))

    try:
        for _ in range(min(processes, len(items))):
            worker = start()
            workers.append(worker)
            give(worker)
        while any(w.tasks for w in workers):
            busy = [w for w in workers if w.tasks]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = set(
                wait([w.connection for w in busy] + [w.process.sentinel for w in busy], timeout)
            )
            now = time.monotonic()
            for worker in busy:
                position = worker.tasks[0]
                outcome: tuple[Result] | Raised | Died | TimedOut | None = None
                # An answer sent just before the worker died is still read first.
                if worker.connection in ready or worker.connection.poll():
                    try:
                        outcome = worker.connection.recv()
                    except (EOFError, OSError):
                        outcome = None
                if outcome is None and (
                    worker.connection in ready or worker.process.sentinel in ready
                ):
                    worker.process.join(timeout=5)
                    outcome = Died(worker.process.exitcode)
                elif outcome is None and now >= worker.deadline:
                    outcome = _over_limit(worker, now, time_limit)
                if outcome is None:
                    continue
                if isinstance(outcome, (Died, TimedOut)):
                    retire(worker)
                    if pending:
                        replacement = start()
                        workers.append(replacement)
                        give(replacement)
                    yield position, outcome
                else:
                    worker.tasks.popleft()
                    if worker.tasks:  # the next one is already under way
                        begin(worker)
                    give(worker)
                    yield position, outcome if isinstance(outcome, Raised) else outcome[0]
    finally:
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        for worker in workers:
            worker.process.join(timeout=1)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
