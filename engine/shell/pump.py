"""The pump: feeds events into the engine core and sends its commands through the port.

With a journal, each event is stored before the engine sees it (write-ahead), so a
restarted engine replays exactly what it had decided on.

Non-reentrant by design: a connector may deliver events while a command is being sent
(a simulated broker answers synchronously), so events are queued and handled one at a
time, in arrival order, each to completion. Both the asyncio service and the in-process
matrix subject drive the engine through this one loop.
"""

from __future__ import annotations

from collections import deque

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

    def start(self) -> None:
        """Connect the port's events to the engine."""
        self.port.start(self.feed)

    def feed(self, event: Event) -> None:
        """Hand one event to the engine; returns once it and everything it caused is done."""
        self._queue.append(event)
        if self._running:
            return  # the loop below, further up the stack, will get to it
        self._running = True
        try:
            while self._queue:
                event = self._queue.popleft()
                if self._journal is not None:
                    self._journal.append(event)  # write-ahead: stored before it counts
                for command in self.engine.handle(event):
                    self.port.send(command)
        finally:
            self._running = False
