"""Broken engine: after a disconnect, resends every placeOrder the broker never answered,
under a fresh orderId (the naive "make sure it went out" retry)."""

from __future__ import annotations

import dataclasses

from ibguard.engine.commands import Command, PlaceOrder
from ibguard.engine.events import (
    BrokerEvent,
    ConnectionRestored,
    NextValidId,
    OpenOrderReport,
    OrderStatusReport,
)
from ibguard.engine.ports import BrokerPort
from ibguard.kit.matrix.reference import ReferenceSubject

from tests.matrix.broken_engines.filtering import FilteringPort


class _Resender(FilteringPort):
    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.unanswered: dict[int, PlaceOrder] = {}
        self.next_id = 0

    def send(self, command: Command) -> None:
        if isinstance(command, PlaceOrder):
            self.unanswered[command.order_id] = command
            self.next_id = max(self.next_id, command.order_id + 1)
        super().send(command)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, OpenOrderReport | OrderStatusReport):
            self.unanswered.pop(event.order_id, None)
        elif isinstance(event, NextValidId):
            self.next_id = max(self.next_id, event.order_id)
        elif isinstance(event, ConnectionRestored):  # the session is up (either connector)
            pending, self.unanswered = list(self.unanswered.values()), {}
            for command in pending:  # the bug: resent without asking the broker first
                self.send(dataclasses.replace(command, order_id=self.next_id))
        return [event]


class ResubmittingSubject(ReferenceSubject):
    def wrap_port(self, port: BrokerPort) -> BrokerPort:
        return _Resender(port)


def make_subject() -> ReferenceSubject:
    return ResubmittingSubject()
