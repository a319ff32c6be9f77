"""Broken engine: counts a live execution again when its execId arrives twice on the session
(it deduplicates only the executions request's replay after a reconnect)."""

from __future__ import annotations

import dataclasses
import itertools

from ibguard.engine.events import BrokerEvent, ExecutionReport
from ibguard.engine.ports import BrokerPort
from ibguard.kit.matrix.reference import ReferenceSubject

from tests.matrix.broken_engines.filtering import FilteringPort


class _RenamingDuplicates(FilteringPort):
    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.seen: set[str] = set()
        self.counter = itertools.count(1)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ExecutionReport):
            if event.exec_id in self.seen:  # the bug: a repeat is taken for a new execution
                event = dataclasses.replace(
                    event, exec_id=f"{event.exec_id}.dup{next(self.counter)}"
                )
            self.seen.add(event.exec_id)
        return [event]


class DuplicateCountingSubject(ReferenceSubject):
    def wrap_port(self, port: BrokerPort) -> BrokerPort:
        return _RenamingDuplicates(port)


def make_subject() -> ReferenceSubject:
    return DuplicateCountingSubject()
