"""The pump: feeds events into the engine core and sends its commands through the port.

Non-reentrant by design: a connector may deliver events while a command is being sent
(a simulated broker answers synchronously), so events are queued and handled one at a
time, in arrival order, each to completion. Both the asyncio service and the in-process
matrix subject drive the engine through this one loop.
"""

from __future__ import annotations

from collections import deque

from ibguard.engine.engine import Engine
from ibguard.engine.events import Event
from ibguard.engine.ports import BrokerPort

__all__ = ["Pump"]


class Pump:
    def __init__(self, engine: Engine, port: BrokerPort) -> None:
        self.engine = engine
        self.port = port
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
                for command in self.engine.handle(self._queue.popleft()):
                    self.port.send(command)
        finally:
            self._running = False
