"""The wire driver's gateway thread, for subjects whose broker client blocks (ibapi).

Owns `GatewayHost`: a `WireLoop` (threaded) serving the fake TWS gateway on a thread of its
own, run in phases the test thread opens and closes. A blocking client (`EClient.connect`
waits for the handshake; its reader thread reads the socket) cannot share the test thread's
loop, so the gateway gets a thread; but SimBroker is not thread-safe and cases script it
from the test thread. Hence the gate: the loop runs only while the test thread waits for it,
inside `quiesce()` or `serving()`, and is parked (not inside any loop call) otherwise. The
case touches the broker only while it is parked, and the thread hand-overs order every
access, so the broker stays single-threaded at any moment, as in the one-loop mode.

Why not `kit.gateway.thread_host.GatewayThread`: its loop runs freely, so every broker
access, the nested ones (`broker.clock.set`, `broker.requests.placed()`) included, would
have to be posted to it; the cases would have to know. Parking the loop keeps them unaware.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from typing import Any, Final, TypeVar

from ibguard.kit.matrix.wire_loop import WireLoop

__all__ = ["HAND_OVER_TIMEOUT", "GatewayHost"]

T = TypeVar("T")

HAND_OVER_TIMEOUT: Final = 60.0  # real seconds one phase may take before the kit gives up

_Job = tuple[Callable[[], Awaitable[Any]], "Future[Any]"]


class GatewayHost:
    """A parked `WireLoop` on a daemon thread; `run(coro_fn)` runs one phase on it."""

    def __init__(self, loop: WireLoop) -> None:
        self.loop = loop
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name="ibguard-wire-gateway", daemon=True)
        self._thread.start()

    def run(self, phase: Callable[[], Awaitable[T]]) -> T:
        """Run `phase()` to completion on the gateway's loop; the caller waits (and the
        case's deadline can still interrupt the wait: the phase then ends at close())."""
        done: Future[T] = Future()
        self._jobs.put((phase, done))
        return done.result(HAND_OVER_TIMEOUT)

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """The loop runs freely for the block (a subject call: its client may block on an
        answer, e.g. a connect waiting for the handshake); parked again when it ends."""
        gate = asyncio.Event()  # bound to the loop on first wait, set from this thread
        done: Future[None] = Future()
        self._jobs.put((gate.wait, done))
        try:
            yield
        finally:
            self.loop.call_soon_threadsafe(gate.set)
            done.result(HAND_OVER_TIMEOUT)

    def close(self) -> None:
        """Stop the thread once the phase running now has ended; the loop is then the
        caller's to close (it is parked for good)."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(HAND_OVER_TIMEOUT)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        while (job := self._jobs.get()) is not None:
            phase, done = job
            try:
                result = self.loop.run_until_complete(phase())
            except BaseException as error:  # handed to the waiting test thread
                done.set_exception(error)
            else:
                done.set_result(result)
