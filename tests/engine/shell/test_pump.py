"""The pump handles events one at a time, in order, even when the broker answers at once."""

from __future__ import annotations

from ibguard.engine import Command, Engine, EngineConfig, PlaceOrder, RequestServerTime
from ibguard.engine.events import (
    ConnectionRestored,
    Event,
    ManagedAccounts,
    NextValidId,
    OpenOrdersSnapshot,
)
from ibguard.engine.ports import BrokerPort, EventHandler
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
