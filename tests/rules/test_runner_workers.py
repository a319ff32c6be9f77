"""Isolated workers: a worker that crashes, raises or hangs costs its own item only."""

from __future__ import annotations

import os
import signal
import threading
import time

from ibguard.rules.workers import Died, Raised, TimedOut, run_isolated


def _work(item: str, suffix: str) -> str:
    if item == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if item == "raise":
        raise ValueError("bad item")
    if item == "hang":
        time.sleep(60)
    return item + suffix


def test_crashed_raising_and_hanging_items_are_outcomes_and_every_other_item_is_done() -> None:
    items = ["a", "segfault", "b", "raise", "c", "hang", "d", "segfault", "e"]
    outcomes = dict(run_isolated(_work, items, ("!",), processes=2, time_limit=1.0))
    assert outcomes == {
        0: "a!",
        1: Died(-signal.SIGSEGV),
        2: "b!",
        3: Raised("ValueError: bad item"),
        4: "c!",
        5: TimedOut(1.0),
        6: "d!",
        7: Died(-signal.SIGSEGV),
        8: "e!",
    }
    assert Died(-signal.SIGSEGV).reason == "killed by SIGSEGV"


def _spin(item: float) -> float:
    end = time.process_time() + item
    while time.process_time() < end:
        pass
    return item


def test_the_time_limit_counts_the_worker_s_cpu_time() -> None:
    outcomes = dict(run_isolated(_spin, [0.1, 5.0, 0.1], (), processes=1, time_limit=1.0))
    assert outcomes == {0: 0.1, 1: TimedOut(1.0), 2: 0.1}


def test_one_worker_does_every_item_in_order() -> None:
    items = [str(n) for n in range(20)]
    outcomes = list(run_isolated(_work, items, ("",), processes=1, time_limit=30.0))
    assert outcomes == list(enumerate(items))


def test_with_other_threads_running_the_workers_are_spawned_and_still_isolated() -> None:
    # fork is unsafe in a process with threads; the workers then start fresh (spawn).
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        items = ["a", "segfault", "b"]
        outcomes = dict(run_isolated(_work, items, ("?",), processes=1, time_limit=30.0))
    finally:
        stop.set()
        thread.join()
    assert outcomes == {0: "a?", 1: Died(-signal.SIGSEGV), 2: "b?"}
