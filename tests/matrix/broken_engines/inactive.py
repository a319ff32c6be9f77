"""Broken engines for LIFE-13 (Inactive is not always final): each reads IB's Inactive
wrongly in one way only, so each fails one variant alone."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

from ibguard.engine.events import BrokerError, BrokerEvent, OrderStatusReport
from ibguard.engine.model import OrderSnapshot, Side, Status
from ibguard.engine.ports import BrokerPort
from ibguard.kit.matrix.reference import ReferenceSubject

from tests.matrix.broken_engines.filtering import FilteringPort, with_port
from tests.matrix.broken_engines.watching import Watching, WatchingSubject

__all__ = ["BROKEN_INACTIVE"]


class _Holds(FilteringPort):
    """Knows which orders the broker holds now (orderStatus Inactive with a whyHeld)."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.held: dict[int, datetime | None] = {}  # orderId -> first tick it was seen held

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, OrderStatusReport):
            if event.status == "Inactive" and event.why_held:
                self.held.setdefault(event.order_id, None)
            else:
                self.held.pop(event.order_id, None)
        return [event]


class GivesUpOnHeldOrders(ReferenceSubject):
    """Gives a held order 60 s: a locate that takes longer is taken as failed and the order
    is cancelled, so the short the strategy wanted never trades."""

    patience = timedelta(seconds=60)
    holds: _Holds | None = None

    def wrap_port(self, port: BrokerPort) -> BrokerPort:
        self.holds = _Holds(port)
        return self.holds

    def tick(self, local_time: datetime) -> None:
        super().tick(local_time)
        if self.holds is None:
            return
        for order_id, since in list(self.holds.held.items()):
            if since is None:
                self.holds.held[order_id] = local_time
            elif local_time - since >= self.patience:
                del self.holds.held[order_id]
                self.cancel(self.holds.sent_orders[order_id].oms_id)


class CancelOfInactiveIsDone(WatchingSubject):
    """Settles a cancel of an order the broker last reported Inactive at once, as ib_insync
    does (#363): the order shows CANCELED before the broker confirms anything."""

    def seen(self, view: OrderSnapshot, watching: Watching, order_id: int) -> OrderSnapshot:
        last = watching.last_status.get(order_id)
        inactive = last is not None and last.status == "Inactive"
        if inactive and order_id in watching.sent_cancels and not view.status.is_terminal:
            return dataclasses.replace(view, status=Status.CANCELED)
        return view


class AckedOrdersEndOnlyByCancelOrFill(FilteringPort):
    """Once the broker acknowledged an order, takes only Cancelled or Filled for its end: a
    later 201 is read as a refused modify (the order still works) and a bare Inactive as a
    hold."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.acked: set[int] = set()

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, OrderStatusReport):
            if event.status in ("PreSubmitted", "Submitted"):
                self.acked.add(event.order_id)
            elif event.status == "Inactive" and not event.why_held and event.order_id in self.acked:
                event = dataclasses.replace(event, status="PreSubmitted")
        elif isinstance(event, BrokerError) and event.code == 201 and event.req_id in self.acked:
            return []
        return [event]


class NoticeOf404OnlyForShortSales(FilteringPort):
    """Reads 404 (held while securities are located) as a short sale's notice only: on a
    BUY there is nothing to locate, so it is taken for the order's end (202)."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code == 404:
            placed = self.sent_orders.get(event.req_id)
            if placed is not None and placed.request.side is Side.BUY:
                event = dataclasses.replace(event, code=202)
        return [event]


BROKEN_INACTIVE: dict[str, Callable[[], ReferenceSubject]] = {
    "gives-up-on-held-orders": GivesUpOnHeldOrders,
    "cancel-of-inactive-is-done": CancelOfInactiveIsDone,
    "acked-orders-end-only-by-cancel-or-fill": with_port(AckedOrdersEndOnlyByCancelOrFill),
    "404-only-for-short-sales": with_port(NoticeOf404OnlyForShortSales),
}
