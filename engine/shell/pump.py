"""The pump: feeds events into the engine core and sends its commands through the port.

With a journal, events are stored before the engine sees them (write-ahead), so a
restarted engine replays exactly what it had decided on. Events are taken in batches:
everything queued when the pump gets to work is written in one journal transaction, then
handled one by one; nothing is handled, and no command sent, before its event is stored.

Non-reentrant by design: a connector may deliver events while a command is being sent
(a simulated broker answers synchronously), so events are queued and handled one at a
time, in arrival order, each to completion. Both the asyncio service and the in-process
matrix subject drive the engine through this one loop: `feed` handles at once, while
`enqueue` (queue an event for the next `drain`) + `drain` let a caller gather a burst
(one socket read) into one batch, and `feed_all` takes a batch a port gathered itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from ibguard.engine.engine import Engine
from ibguard.engine.events import Event
from ibguard.engine.ports import BrokerPort, Journal

__all__ = ["Pump"]


class Pump:
    def __init__(self, engine: Engine, port: BrokerPort, journal: Journal | None = None) -> None:
        self.engine = engine
        self.port = port
        self._journal = journal
        self._queue: deque[Event] = deque()
        self._running = False
        # `enqueue` is the queue's own append: the service calls it once per broker event
        self.enqueue: Callable[[Event], None] = self._queue.append

    def start(self) -> None:
        """Connect the port's events to the engine."""
        self.port.start(self.feed)

    def feed(self, event: Event) -> None:
        """Hand one event to the engine; returns once it and everything it caused is done
        (unless called from inside the pump: then it is queued behind the current one)."""
        self._queue.append(event)
        self.drain()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def drain(self) -> None:
        """Handle everything queued, and everything that causes, in order."""
        if self._queue:
            self._run(())

    def feed_all(self, events: Sequence[Event]) -> None:
        """Hand the engine a batch (one socket read's events): stored in one journal write,
        handled in order, then everything they caused; queued behind the current batch
        when called from inside the pump, and behind anything queued before them."""
        if self._running or self._queue:
            self._queue.extend(events)
            self.drain()
        else:
            self._run(events)

    def _run(self, batch: Sequence[Event]) -> None:
        if self._running:
            return  # the loop below, further up the stack, will get to it
        self._running = True
        queue, journal = self._queue, self._journal
        handle, send = self.engine.handle, self.port.send
        try:
            while True:
                if batch:
                    if journal is not None:
                        journal.append_all(batch)  # write-ahead: stored before any counts
                    for event in batch:
                        commands = handle(event)
                        if commands:  # most events send nothing: no iterator for an empty list
                            for command in commands:
                                send(command)
                if not queue:
                    return
                batch = list(queue)
                queue.clear()
        finally:
            self._running = False
