"""Frames written once the event loop's current step is done: one write per socket, not one
per frame.

A fill fans out to every subscribed session (its position and portfolio lines), and a
request's answer is often several frames; written one by one, each would be a send call on
its socket. Connections queue their frames and ask the gateway's `WriteBatch` to call them
back: one loop callback per step flushes every connection that queued something, each with
one write. Frames keep their order per socket; nothing waits longer than the current step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["WriteBatch"]


class WriteBatch:
    """The flushes due at the end of this step of the event loop, shared by connections."""

    def __init__(self) -> None:
        self._due: list[Callable[[], None]] = []
        self._scheduled_on: asyncio.AbstractEventLoop | None = None  # where `_run` waits
        self._home: asyncio.AbstractEventLoop | None = None  # the loop that serves the sockets

    def add(self, flush: Callable[[], None]) -> None:
        """Call ``flush`` once the current step of the running loop is done. Called while
        the loop is parked (a matrix case posting what TWS sends), the flush waits for the
        loop's next step."""
        try:
            loop = self._home = asyncio.get_running_loop()
        except RuntimeError:
            if self._home is None:
                flush()  # no loop has served a frame yet: nothing to keep in order with
                return
            loop = self._home
        if self._scheduled_on is not loop:
            self._scheduled_on = loop
            loop.call_soon(self._run)
        self._due.append(flush)

    def _run(self) -> None:
        self._scheduled_on = None
        due, self._due = self._due, []
        for flush in due:
            flush()
