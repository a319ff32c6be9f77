"""A port between the reference engine and its connector that can rewrite what passes,
so a broken engine is the reference engine with one realistic bug and nothing else."""

from __future__ import annotations

from collections.abc import Callable

from ibguard.engine.commands import Command
from ibguard.engine.events import BrokerEvent
from ibguard.engine.ports import BrokerPort, EventHandler
from ibguard.kit.matrix.reference import ReferenceSubject


class FilteringPort(BrokerPort):
    def __init__(self, inner: BrokerPort) -> None:
        self.inner = inner
        self._on_event: EventHandler | None = None

    def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        self.inner.start(self._receive)

    def _receive(self, event: BrokerEvent) -> None:
        assert self._on_event is not None
        for out in self.events(event):
            self._on_event(out)

    def send(self, command: Command) -> None:
        self.inner.send(command)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        return [event]


def with_port(port: Callable[[BrokerPort], BrokerPort]) -> Callable[[], ReferenceSubject]:
    """The reference engine talking through `port` (a broken engine's one bug)."""

    class Broken(ReferenceSubject):
        def wrap_port(self, inner: BrokerPort) -> BrokerPort:
            return port(inner)

    return Broken
