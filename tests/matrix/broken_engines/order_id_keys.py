"""Broken engine: keys orders by (clientId, orderId) only; permId and orderRef are ignored."""

from __future__ import annotations

import dataclasses

from ibguard.engine.events import (
    BrokerEvent,
    CompletedOrdersSnapshot,
    ExecutionReport,
    ExecutionsSnapshot,
    OpenOrderReport,
    OpenOrdersSnapshot,
    OrderStatusReport,
)
from ibguard.engine.ports import BrokerPort
from ibguard.kit.matrix.reference import ReferenceSubject

from tests.matrix.broken_engines.filtering import FilteringPort


def _blind(event: object) -> object:
    if isinstance(event, OpenOrderReport | ExecutionReport):
        return dataclasses.replace(event, perm_id=0, order_ref="")
    if isinstance(event, OrderStatusReport):
        return dataclasses.replace(event, perm_id=0)
    return event


class _OrderIdOnly(FilteringPort):
    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, OpenOrdersSnapshot | CompletedOrdersSnapshot):
            event = dataclasses.replace(event, orders=tuple(_blind(o) for o in event.orders))
        elif isinstance(event, ExecutionsSnapshot):
            executions = tuple(_blind(e) for e in event.executions)
            event = dataclasses.replace(event, executions=executions)
        return [_blind(event)]  # type: ignore[list-item]


class OrderIdKeyedSubject(ReferenceSubject):
    def wrap_port(self, port: BrokerPort) -> BrokerPort:
        return _OrderIdOnly(port)


def make_subject() -> ReferenceSubject:
    return OrderIdKeyedSubject()
