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
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Generic, TypeVar

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


def _serve(connection: Connection, work: Callable[..., object], shared: tuple[object, ...]) -> None:
    faulthandler.disable()  # a crash is reported as the item's outcome, not as a stack dump
    # What a forked worker inherits is never garbage: keep the collector off it (scanning it
    # made every worker several times slower and copied the parent's pages).
    gc.freeze()
    while True:
        try:
            item = connection.recv()
        except EOFError:
            return
        if item is None:
            return
        try:
            outcome: object = (work(item, *shared),)
        except Exception as error:  # reported for the item, not raised
            outcome = Raised(f"{type(error).__name__}: {error}")
        connection.send(outcome)


@dataclass(eq=False, slots=True)
class _Worker(Generic[Item]):
    process: BaseProcess
    connection: Connection
    task: tuple[int, Item] | None = None
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


def _over_limit(worker: _Worker[Item], now: float, time_limit: float) -> TimedOut | None:
    """TimedOut if the worker's item has used up its time, else None (and a later look)."""
    used = _cpu_seconds(worker.process.pid)
    if used is None or worker.cpu_at_start is None or now >= worker.wall_deadline:
        return TimedOut(time_limit)
    left = time_limit - (used - worker.cpu_at_start)
    if left <= 0:
        return TimedOut(time_limit)
    worker.deadline = min(now + left, worker.wall_deadline)
    return None


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
    pending = deque(enumerate(items))
    workers: list[_Worker[Item]] = []

    def start() -> _Worker[Item]:
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, work, shared), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def give(worker: _Worker[Item]) -> None:
        if not pending:
            worker.task = None
            return
        worker.task = pending.popleft()
        now = time.monotonic()
        worker.deadline = now + time_limit
        worker.wall_deadline = now + time_limit * _WALL_FACTOR
        worker.cpu_at_start = _cpu_seconds(worker.process.pid)
        with contextlib.suppress(OSError):  # died between items: the sentinel reports it
            worker.connection.send(worker.task[1])

    def retire(worker: _Worker[Item]) -> None:
        worker.process.kill()
        worker.process.join()
        worker.connection.close()
        workers.remove(worker)

    try:
        for _ in range(min(processes, len(items))):
            worker = start()
            workers.append(worker)
            give(worker)
        while any(w.task is not None for w in workers):
            busy = [w for w in workers if w.task is not None]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = set(
                wait([w.connection for w in busy] + [w.process.sentinel for w in busy], timeout)
            )
            now = time.monotonic()
            for worker in busy:
                assert worker.task is not None
                position = worker.task[0]
                outcome: tuple[Result] | Raised | Died | TimedOut | None = None
                if worker.connection in ready:
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
