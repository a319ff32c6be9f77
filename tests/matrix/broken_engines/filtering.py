"""A port between the reference engine and its connector that can rewrite what passes,
so a broken engine is the reference engine with one realistic bug and nothing else."""

from __future__ import annotations

from collections.abc import Callable

from ibguard.engine.commands import CancelOrder, Command, PlaceOrder
from ibguard.engine.events import BrokerEvent, ExecutionReport, OrderStatusReport
from ibguard.engine.ports import BrokerPort, EventHandler
from ibguard.kit.matrix.reference import ReferenceSubject


class FilteringPort(BrokerPort):
    """Passes everything by default; remembers what the engine placed (by orderId) and the
    orderIds it asked to cancel, which most bugs key on."""

    def __init__(self, inner: BrokerPort) -> None:
        self.inner = inner
        self._on_event: EventHandler | None = None
        self.sent_orders: dict[int, PlaceOrder] = {}
        self.sent_cancels: set[int] = set()

    def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        self.inner.start(self._receive)

    def _receive(self, event: BrokerEvent) -> None:
        assert self._on_event is not None
        for out in self.events(event):
            self._on_event(out)

    def send(self, command: Command) -> None:
        if isinstance(command, PlaceOrder):
            self.sent_orders[command.order_id] = command
        elif isinstance(command, CancelOrder):
            self.sent_cancels.add(command.order_id)
        self.inner.send(command)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        return [event]


class AfterCancelPort(FilteringPort):
    """Knows which broker orders the broker confirmed cancelled; `late_fill` decides what
    becomes of an execution that arrives after that."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.cancelled: set[int] = set()

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, OrderStatusReport) and event.status == "Cancelled":
            self.cancelled.add(event.perm_id)
        if isinstance(event, ExecutionReport) and event.perm_id in self.cancelled:
            return self.late_fill(event)
        return [event]

    def late_fill(self, execution: ExecutionReport) -> list[BrokerEvent]:
        return [execution]


def with_port(port: Callable[[BrokerPort], BrokerPort]) -> Callable[[], ReferenceSubject]:
    """The reference engine talking through `port` (a broken engine's one bug)."""

    class Broken(ReferenceSubject):
        def wrap_port(self, inner: BrokerPort) -> BrokerPort:
            return port(inner)

    return Broken
