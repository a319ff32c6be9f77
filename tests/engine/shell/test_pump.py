"""The pump handles events one at a time, in order, even when the broker answers at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ibguard.engine import Command, Engine, EngineConfig, PlaceOrder, RequestServerTime
from ibguard.engine.events import (
    ConnectionRestored,
    Event,
    ManagedAccounts,
    NextValidId,
    OpenOrdersSnapshot,
)
from ibguard.engine.ports import BrokerPort, EventHandler, Journal
from ibguard.engine.shell.pump import Pump


class AnsweringPort(BrokerPort):
    """Answers every command synchronously, from inside send(), like the simulated broker."""

    def __init__(self) -> None:
        self.sent: list[Command] = []
        self.on_event: EventHandler | None = None

    def start(self, on_event: EventHandler) -> None:
        self.on_event = on_event

    def send(self, command: Command) -> None:
        self.sent.append(command)
        assert self.on_event is not None
        if isinstance(command, RequestServerTime):
            # answered while the pump is still sending: must be queued, not re-entered
            self.on_event(OpenOrdersSnapshot())


def test_events_raised_while_sending_are_handled_after_the_current_event() -> None:
    engine = Engine(EngineConfig(account="DU1"))
    port = AnsweringPort()
    pump = Pump(engine, port)
    pump.start()
    events: list[Event] = [
        NextValidId(order_id=1),
        ManagedAccounts(accounts=("DU1",)),
        ConnectionRestored(data_lost=True),
    ]
    for event in events:
        pump.feed(event)
    names = [type(c).__name__ for c in port.sent]
    # the reconcile's first request goes out before the early snapshot answer advances it
    assert names[:3] == ["RequestServerTime", "RequestOpenOrders", "RequestCompletedOrders"]
    assert not any(isinstance(c, PlaceOrder) for c in port.sent)


class RecordingJournal(Journal):
    def __init__(self) -> None:
        self.batches: list[list[Event]] = []

    def append(self, event: Event) -> None:
        self.batches.append([event])

    def append_all(self, events: Sequence[Event]) -> None:
        self.batches.append(list(events))

    def events(self) -> Iterator[Event]:
        return (event for batch in self.batches for event in batch)


def test_a_burst_is_stored_in_one_write_before_any_of_it_is_handled() -> None:
    engine = Engine(EngineConfig(account="DU1"))
    journal = RecordingJournal()
    stored_when_handled: list[int] = []
    original = engine.handle

    def handle(event: Event) -> list[Command]:
        stored_when_handled.append(sum(len(b) for b in journal.batches))
        return original(event)

    engine.handle = handle  # type: ignore[method-assign]  # a spy on the real engine
    pump = Pump(engine, AnsweringPort(), journal)
    pump.start()
    burst: list[Event] = [NextValidId(order_id=1), ManagedAccounts(accounts=("DU1",))]
    for event in burst:
        pump.enqueue(event)
    assert pump.pending == 2
    assert journal.batches == []  # nothing stored or handled before drain
    pump.drain()
    assert journal.batches[0] == burst
    assert stored_when_handled == [2, 2]
    assert pump.pending == 0


class OneByOneJournal(Journal):
    """A store that writes one event at a time: the port's own append_all applies."""

    def __init__(self) -> None:
        self.stored: list[Event] = []

    def append(self, event: Event) -> None:
        self.stored.append(event)

    def events(self) -> Iterator[Event]:
        return iter(self.stored)


def test_a_store_without_batches_still_gets_every_event_first() -> None:
    journal = OneByOneJournal()
    pump = Pump(Engine(EngineConfig(account="DU1")), AnsweringPort(), journal)
    pump.start()
    pump.enqueue(NextValidId(order_id=1))
    pump.enqueue(ManagedAccounts(accounts=("DU1",)))
    pump.drain()
    assert journal.stored == [NextValidId(order_id=1), ManagedAccounts(accounts=("DU1",))]


def test_a_read_fed_whole_is_stored_in_one_write_then_handled_and_what_it_caused_after_it() -> None:
    engine = Engine(EngineConfig(account="DU1"))
    journal = RecordingJournal()
    port = AnsweringPort()
    pump = Pump(engine, port, journal)
    port.on_event = lambda event: pump.feed_all([event])  # answers come as reads of their own
    read: list[Event] = [
        NextValidId(order_id=1),
        ManagedAccounts(accounts=("DU1",)),
        ConnectionRestored(data_lost=True),
    ]
    pump.feed_all(read)
    assert journal.batches[0] == read
    # the answer to RequestServerTime, fed from inside the batch, came after all of it
    assert journal.batches[1] == [OpenOrdersSnapshot()]
    assert pump.pending == 0


def test_a_read_fed_whole_comes_after_events_queued_before_it() -> None:
    journal = RecordingJournal()
    pump = Pump(Engine(EngineConfig(account="DU1")), AnsweringPort(), journal)
    pump.enqueue(NextValidId(order_id=1))
    pump.feed_all([ManagedAccounts(accounts=("DU1",))])
    assert journal.batches == [[NextValidId(order_id=1), ManagedAccounts(accounts=("DU1",))]]
