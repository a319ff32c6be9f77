"""Small broken engines for the cases beyond the seed (CASES-NEXT.md): the reference engine
with one bug each that real teams' engines have, put in at its connector (a `FilteringPort`).
Each docstring names the bug; test_broken_engines.py asserts exactly which cases catch it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ibguard.engine.broker_errors import ErrorClass, classify_error
from ibguard.engine.commands import CancelOrder, Command
from ibguard.engine.events import BrokerError, BrokerEvent, ExecutionReport, OrderStatusReport
from ibguard.engine.ports import BrokerPort
from ibguard.kit.matrix.reference import ReferenceSubject

from tests.matrix.broken_engines.filtering import FilteringPort

__all__ = ["BROKEN_NEXT"]


def _with_port(port: Callable[[BrokerPort], BrokerPort]) -> Callable[[], ReferenceSubject]:
    class Broken(ReferenceSubject):
        def wrap_port(self, inner: BrokerPort) -> BrokerPort:
            return port(inner)

    return Broken


class CorrectionsAddUp(FilteringPort):
    """Adds a corrected execution (`.01` -> `.02`) to the fill it corrects, as ib_insync's
    and ib_async's Trade.filled() do."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ExecutionReport) and not event.exec_id.endswith(".01"):
            event = dataclasses.replace(event, exec_id=f"{event.exec_id}.new")
        return [event]


class ErrorsCancelOrders(FilteringPort):
    """Takes any error carrying an order's id for its end, as ib_async does: a notice
    (10349, 404, 2109) or a duplicate id (103) becomes a cancellation (202)."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.req_id > 0:
            kind = classify_error(event.code)
            if kind in (ErrorClass.INFORMATIONAL, ErrorClass.DUPLICATE_ID):
                event = dataclasses.replace(event, code=202)
        return [event]


class OnlyRequestedCancels(FilteringPort):
    """Expects Cancelled only as the answer to its own cancel: an unsolicited cancel (IOC
    remainder, DAY close, OCA sibling, corporate action) is dropped as noise."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.asked: set[int] = set()

    def send(self, command: Command) -> None:
        if isinstance(command, CancelOrder):
            self.asked.add(command.order_id)
        super().send(command)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code == 202 and event.req_id not in self.asked:
            return []
        if (
            isinstance(event, OrderStatusReport)
            and event.status == "Cancelled"
            and event.order_id not in self.asked
        ):
            return []
        return [event]


class OneBrokerOrderPerRef(FilteringPort):
    """Keeps one broker order (the first permId) per orderRef and drops the executions of
    any other incarnation as noise."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.perm_of: dict[str, int] = {}

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ExecutionReport) and event.order_ref:
            known = self.perm_of.setdefault(event.order_ref, event.perm_id)
            if known != event.perm_id:
                return []
        return [event]


class DeafDuringOutage(FilteringPort):
    """Stops listening to order news between 1100 and the restore, as if the broker could
    say nothing while TWS has no link to IB."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.outage = False

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code in (1100, 1101, 1102):
            self.outage = event.code == 1100
        elif self.outage and isinstance(event, (ExecutionReport, OrderStatusReport)):
            return []
        return [event]


class Ignores1101(FilteringPort):
    """Reads 1101 (restored, data lost) as 1102 (data maintained): nothing is asked again,
    as ib_async does."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code == 1101:
            event = dataclasses.replace(event, code=1102)
        return [event]


class RefusedCancelIsDone(FilteringPort):
    """Takes 'cannot cancel' (10148, 10147, 161) for a confirmation: the order is marked
    cancelled, as ib_async marks the Trade."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if (
            isinstance(event, BrokerError)
            and classify_error(event.code) is ErrorClass.CANNOT_CANCEL
        ):
            event = dataclasses.replace(event, code=202)
        return [event]


BROKEN_NEXT: dict[str, Callable[[], ReferenceSubject]] = {
    "corrections-add-up": _with_port(CorrectionsAddUp),
    "errors-cancel-orders": _with_port(ErrorsCancelOrders),
    "only-requested-cancels": _with_port(OnlyRequestedCancels),
    "one-broker-order-per-ref": _with_port(OneBrokerOrderPerRef),
    "deaf-during-outage": _with_port(DeafDuringOutage),
    "ignores-1101": _with_port(Ignores1101),
    "refused-cancel-is-done": _with_port(RefusedCancelIsDone),
}
