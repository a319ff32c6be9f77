"""Ports: the small interfaces the engine's shell is wired with (adapters implement them,
tests plug in fakes from tests/fakes). Nothing here does I/O itself."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime

from ibguard.engine.commands import Command
from ibguard.engine.events import BrokerEvent, Event
from ibguard.engine.logcodes import LogCode

__all__ = ["AlertSink", "BrokerPort", "Clock", "EventHandler", "Journal", "ReadHandler"]

EventHandler = Callable[[BrokerEvent], None]
ReadHandler = Callable[[Sequence[BrokerEvent]], None]  # the events of one socket read


class BrokerPort(ABC):
    """The connector's public port: the only way the engine reaches the broker.

    `send` carries out one command; answers and everything else the broker says come back
    as events through the handler given to `start`.
    """

    @abstractmethod
    def start(self, on_event: EventHandler) -> None:
        """Begin delivering broker events to `on_event`."""

    def start_by_read(self, on_read: ReadHandler) -> bool:
        """Begin delivering broker events as `start` does, but a socket read's events in
        one call to `on_read`, in order, once the read is done (an event outside any read
        comes in a call of its own): the engine then handles a read as one batch, at
        once. False, having started nothing, when this port cannot tell where a read ends
        (the default): then `start` it."""
        return False

    @abstractmethod
    def send(self, command: Command) -> None:
        """Carry out one engine command at the broker."""


class Clock(ABC):
    """The host's wall clock. Only the shell reads it; the core gets broker time in events."""

    @abstractmethod
    def now(self) -> datetime:
        """Current local time, timezone-aware."""


class AlertSink(ABC):
    """Where operator alerts go (pager, chat, ...). The engine logs every alert as well."""

    @abstractmethod
    def alert(self, code: LogCode, message: str, fields: Mapping[str, object]) -> None:
        """Deliver one alert. Must not raise; a failing sink is the sink's problem."""


class Journal(ABC):
    """Durable, ordered record of every event the engine handled (write-ahead)."""

    @abstractmethod
    def append(self, event: Event) -> None:
        """Store one event before the engine handles it."""

    def append_all(self, events: Sequence[Event]) -> None:
        """Store several events, in order, before the engine handles any of them (a store
        that can should write them at once: one transaction)."""
        for event in events:
            self.append(event)

    @abstractmethod
    def events(self) -> Iterator[Event]:
        """Every stored event, oldest first."""
