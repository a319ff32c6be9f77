"""Small broken engines for the cases beyond the seed (CASES-NEXT.md): the reference engine
with one bug each that real teams' engines have, put in at its connector (a `FilteringPort`).
Each docstring names the bug; test_broken_engines.py asserts exactly which cases catch it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

from ibguard.engine.broker_errors import ErrorClass, classify_error
from ibguard.engine.commands import CancelOrder, Command
from ibguard.engine.events import (
    BrokerError,
    BrokerEvent,
    CommissionReport,
    ConnectionLost,
    ExecutionReport,
    ExecutionsSnapshot,
    OpenOrderReport,
    OrderStatusReport,
    PositionReport,
)
from ibguard.engine.model import OrderSnapshot, Status
from ibguard.engine.ports import BrokerPort
from ibguard.kit.matrix.reference import ReferenceSubject
from ibguard.kit.matrix.subject import HEALTH_HTTP, HealthView

from tests.matrix.broken_engines.filtering import FilteringPort, with_port
from tests.matrix.broken_engines.watching import Watching, WatchingSubject

__all__ = ["BROKEN_NEXT"]


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


class FillsNeedAnAcknowledgement(FilteringPort):
    """Drops an execution for a broker order it has not yet seen acknowledged (no openOrder
    or orderStatus with its permId), as ib_async fires no fill event without a Trade."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.acknowledged: set[int] = set()

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, (OpenOrderReport, OrderStatusReport)):
            self.acknowledged.add(event.perm_id)
        elif isinstance(event, ExecutionReport) and event.perm_id not in self.acknowledged:
            return []
        return [event]


class CommissionsAddUp(FilteringPort):
    """Adds every commission report to the execution's fee, even a repeat or a revision."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.paid: dict[str, Decimal] = {}

    def _summed(self, report: CommissionReport) -> CommissionReport:
        total = self.paid.get(report.exec_id, Decimal(0)) + report.commission
        self.paid[report.exec_id] = total
        return dataclasses.replace(report, commission=total)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, CommissionReport):
            event = self._summed(event)
        elif isinstance(event, ExecutionsSnapshot):
            summed = tuple(self._summed(c) for c in event.commissions)
            event = dataclasses.replace(event, commissions=summed)
        return [event]


class RejectMeansNothingFilled(WatchingSubject):
    """Shows an order the broker rejected (201) as REJECTED with nothing filled, even when
    part of it had filled before the reject."""

    def seen(self, view: OrderSnapshot, watching: Watching, order_id: int) -> OrderSnapshot:
        if order_id not in watching.rejected:
            return view
        return dataclasses.replace(view, status=Status.REJECTED, filled=Decimal(0))


_STATUS_OF = {
    "PreSubmitted": Status.WORKING,
    "Submitted": Status.WORKING,
    "Filled": Status.FILLED,
    "Cancelled": Status.CANCELED,
    "Inactive": Status.REJECTED,
}


class StatusFromLastOrderStatus(WatchingSubject):
    """Shows an order as its last orderStatus says: status, filled and average price."""

    def seen(self, view: OrderSnapshot, watching: Watching, order_id: int) -> OrderSnapshot:
        report = watching.last_status.get(order_id)
        if report is None or report.status not in _STATUS_OF:
            return view
        return dataclasses.replace(
            view,
            status=_STATUS_OF[report.status],
            filled=report.filled,
            avg_fill_price=report.avg_fill_price,
        )


class HostLocalFillTimes(FilteringPort):
    """Reads an execution's wall-clock time in the host's zone (America/Chicago), as a
    client that parses a time it cannot place does (ib_async#230): fills hours off."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ExecutionReport):
            wall = event.time.replace(tzinfo=None)
            event = dataclasses.replace(event, time=wall.replace(tzinfo=_HOST_ZONE))
        return [event]


_HOST_ZONE = ZoneInfo("America/Chicago")


class SnapshotPositionsOnly(FilteringPort):
    """Reads positions only from a snapshot it asked for: a change the broker streams with
    no execution (an assignment, an expiry) goes unseen until the next reconnect."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        return [] if isinstance(event, PositionReport) else [event]


class HealthyWhileDisconnected(ReferenceSubject):
    """Reports health as "the process is up": a lost broker connection is not a failure."""

    capabilities = ReferenceSubject.capabilities - {HEALTH_HTTP}

    def health(self) -> HealthView:
        view = super().health()
        failed = tuple(name for name in view.failed if name != "connected")
        reasons = tuple(r for r in view.reasons if not r.startswith("connected"))
        return HealthView(healthy=not failed, reasons=reasons, failed=failed)


class InventsCancelRejectOnDrop(FilteringPort):
    """Takes a socket dropped with a cancel in flight for the cancel's refusal: the order
    goes back to working although the broker may have applied it."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.in_flight: set[int] = set()

    def send(self, command: Command) -> None:
        if isinstance(command, CancelOrder):
            self.in_flight.add(command.order_id)
        super().send(command)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if not isinstance(event, ConnectionLost):
            return [event]
        refusals: list[BrokerEvent] = [
            BrokerError(req_id=order_id, code=161, message="Cancel attempted: not cancellable")
            for order_id in sorted(self.in_flight)
        ]
        self.in_flight.clear()
        return [*refusals, event]


class CancelsOnlyOnce(FilteringPort):
    """Never sends a second cancel for an order: a cancel lost with the socket is not sent
    again, and the order works on at the broker while the strategy believes it cancelled."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.cancelled: set[int] = set()

    def send(self, command: Command) -> None:
        if isinstance(command, CancelOrder):
            if command.order_id in self.cancelled:
                return
            self.cancelled.add(command.order_id)
        super().send(command)


BROKEN_NEXT: dict[str, Callable[[], ReferenceSubject]] = {
    "corrections-add-up": with_port(CorrectionsAddUp),
    "errors-cancel-orders": with_port(ErrorsCancelOrders),
    "only-requested-cancels": with_port(OnlyRequestedCancels),
    "one-broker-order-per-ref": with_port(OneBrokerOrderPerRef),
    "deaf-during-outage": with_port(DeafDuringOutage),
    "ignores-1101": with_port(Ignores1101),
    "refused-cancel-is-done": with_port(RefusedCancelIsDone),
    "fills-need-an-acknowledgement": with_port(FillsNeedAnAcknowledgement),
    "commissions-add-up": with_port(CommissionsAddUp),
    "reject-means-nothing-filled": RejectMeansNothingFilled,
    "status-from-last-orderstatus": StatusFromLastOrderStatus,
    "host-local-fill-times": with_port(HostLocalFillTimes),
    "snapshot-positions-only": with_port(SnapshotPositionsOnly),
    "healthy-while-disconnected": HealthyWhileDisconnected,
    "invents-cancel-reject-on-drop": with_port(InventsCancelRejectOnDrop),
    "cancels-only-once": with_port(CancelsOnlyOnce),
}
