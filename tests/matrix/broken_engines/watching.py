"""Broken engines whose bug is in the order view the strategy reads: the reference engine,
and a port that remembers what the broker said per orderId (its statuses, its 201s, the
cancels asked and lost) for a view that reads them wrongly. A subclass of `WatchingSubject`
says in `seen` how its view goes wrong."""

from __future__ import annotations

from ibguard.engine.events import BrokerError, BrokerEvent, ConnectionLost, OrderStatusReport
from ibguard.engine.model import OrderSnapshot
from ibguard.engine.ports import BrokerPort
from ibguard.kit.matrix.reference import ReferenceSubject

from tests.matrix.broken_engines.filtering import FilteringPort

__all__ = ["Watching", "WatchingSubject"]

_ENDED = ("Cancelled", "Filled", "Inactive")


class Watching(FilteringPort):
    """Remembers, per orderId, the broker's last orderStatus, its 201s (and whether the
    order had ended by then), the cancels confirmed or lost with the socket, and whether a
    Filled status ever said filled 0."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.last_status: dict[int, OrderStatusReport] = {}
        self.rejected: set[int] = set()
        self.rejected_after_end: set[int] = set()
        self.cancel_confirmed: set[int] = set()
        self.cancel_lost: set[int] = set()  # asked, unanswered when the socket died
        self.filled_nothing: set[int] = set()

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, OrderStatusReport):
            self.last_status[event.order_id] = event
            if event.status == "Cancelled":
                self.cancel_confirmed.add(event.order_id)
            elif event.status == "Filled" and not event.filled:
                self.filled_nothing.add(event.order_id)
        elif isinstance(event, ConnectionLost):
            self.cancel_lost |= self.sent_cancels - self.cancel_confirmed
        elif isinstance(event, BrokerError) and event.code == 201:
            self.rejected.add(event.req_id)
            last = self.last_status.get(event.req_id)
            if last is not None and last.status in _ENDED:
                self.rejected_after_end.add(event.req_id)
        return [event]


class WatchingSubject(ReferenceSubject):
    watching: Watching | None = None

    def wrap_port(self, port: BrokerPort) -> BrokerPort:
        self.watching = Watching(port)
        return self.watching

    def order(self, oms_id: str) -> OrderSnapshot | None:
        view = super().order(oms_id)
        if view is None or self.watching is None or view.broker_order_id is None:
            return view
        return self.seen(view, self.watching, view.broker_order_id)

    def seen(self, view: OrderSnapshot, watching: Watching, order_id: int) -> OrderSnapshot:
        """The view this engine shows for `view` (the reference engine's)."""
        return view
