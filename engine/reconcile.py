"""Reconciliation as a small state machine: open orders, completed orders, executions.

The broker wins. An order of ours seen in any answer takes the broker's state; an order
the broker acknowledged once but no longer knows is CANCELED (FAIL-04); an order it never
acknowledged stays NEW for the strategy to decide (CONN-01). Orders sent after the run
began are left alone: the broker's answers may predate them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ibguard.engine.book import Book
from ibguard.engine.commands import (
    CancelOrder,
    Command,
    RequestCompletedOrders,
    RequestContractDetails,
    RequestExecutions,
    RequestOpenOrders,
    RequestPositions,
)
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.lifecycle import Kind
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Status

__all__ = ["ReconcilePhase", "ReconcileRun", "Reconciler"]


class ReconcilePhase(str, Enum):
    OPEN_ORDERS = "OPEN_ORDERS"
    COMPLETED_ORDERS = "COMPLETED_ORDERS"
    EXECUTIONS = "EXECUTIONS"


@dataclass(slots=True)
class ReconcileRun:
    reason: str
    epoch: int
    phase: ReconcilePhase = ReconcilePhase.OPEN_ORDERS
    seen: set[str] = field(default_factory=set)
    again: bool = False  # another reason to reconcile arrived while this run was going
    after_reconnect: bool = False  # requests in flight at the disconnect may have been lost


class Reconciler:
    """Runs one reconciliation at a time; a second reason arriving meanwhile runs after it.

    The Engine applies each report in the broker's answers (they need its account and
    clientId checks) and tells the reconciler what it saw; the reconciler decides the
    order of requests and, at the end, the fate of every order the broker did not mention.
    """

    def __init__(self, book: Book, log: DecisionLog) -> None:
        self._book = book
        self._log = log
        self.finished = 0  # runs completed so far (the session is reconciled after one)
        self.epoch = 0  # orders sent in or after a run's epoch are left out of it
        self.run: ReconcileRun | None = None
        self.wanted: str | None = None  # asked for while disconnected
        self._cancels_resent: set[str] = set()  # oms_ids whose lost cancel was sent again

    @property
    def running(self) -> bool:
        return self.run is not None

    def start(
        self, reason: str, *, connected: bool, after_reconnect: bool = False
    ) -> list[Command]:
        if not connected:
            self.wanted = reason
            return []
        if self.run is not None:
            self.run.again = True
            return []
        self.epoch += 1
        self.run = ReconcileRun(reason=reason, epoch=self.epoch, after_reconnect=after_reconnect)
        self._log.info(LogCode.RECONCILE_STARTED, "reconcile: asking the broker", reason=reason)
        return [RequestOpenOrders()]

    def restart_after_reconnect(self, data_lost: bool) -> list[Command]:
        """On reconnect: a run cut by the disconnect never gets its answers; start over."""
        wanted, self.wanted = self.wanted, None
        if not data_lost and wanted is None:
            return []
        self.run = None
        return self.start(wanted or "connected", connected=True, after_reconnect=True)

    def saw(self, oms_id: str | None) -> None:
        if self.run is not None and oms_id is not None:
            self.run.seen.add(oms_id)

    def open_orders_done(self) -> list[Command]:
        return self._advance(ReconcilePhase.OPEN_ORDERS, ReconcilePhase.COMPLETED_ORDERS)

    def completed_orders_done(self) -> list[Command]:
        return self._advance(ReconcilePhase.COMPLETED_ORDERS, ReconcilePhase.EXECUTIONS)

    def executions_done(self) -> list[Command]:
        run = self.run
        if run is None or run.phase is not ReconcilePhase.EXECUTIONS:
            return []  # an answer to someone else's request: applied, nothing to finish
        return self._finish(run)

    def _advance(self, phase: ReconcilePhase, to: ReconcilePhase) -> list[Command]:
        run = self.run
        if run is None or run.phase is not phase:
            return []
        run.phase = to
        if to is ReconcilePhase.COMPLETED_ORDERS:
            return [RequestCompletedOrders()]
        return [RequestExecutions()]

    def _resend_lost_cancels(self, run: ReconcileRun) -> list[Command]:
        """A cancel in flight when the socket died may never have arrived (CONN-09): an
        order the broker still works after the reconnect is cancelled once more, never twice."""
        commands: list[Command] = []
        for record in self._book.orders.values():
            oms_id = record.oms_id
            if (
                record.status is not Status.CANCEL_PENDING
                or oms_id not in run.seen
                or oms_id in self._cancels_resent
                or record.order_id is None
            ):
                continue
            self._cancels_resent.add(oms_id)
            self._log.info(
                LogCode.CANCEL_REQUESTED,
                "cancelOrder sent again: the first one's outcome was lost with the connection",
                oms_id=oms_id,
            )
            commands.append(
                CancelOrder(oms_id=oms_id, order_id=record.order_id, perm_id=record.perm_id)
            )
        return commands

    def _finish(self, run: ReconcileRun) -> list[Command]:
        self.run = None
        self.finished += 1
        for record in self._book.orders.values():
            if record.sent_epoch >= run.epoch:
                continue  # sent after the broker's answers were taken
            unresolved = record.status.is_live or record.pending_reconcile
            self._book.settle(record)
            if record.oms_id in run.seen or not unresolved or record.status.is_terminal:
                continue
            if record.acknowledged:
                self._book.move(record, Kind.GONE)
                self._log.alert(
                    LogCode.RECONCILE_MISMATCH,
                    "the broker has no record of an acknowledged order: broker wins, CANCELED",
                    oms_id=record.oms_id,
                    perm_id=record.perm_id,
                )
            else:
                self._book.move(record, Kind.NOT_PLACED)
                self._book.forget_alias(record)
                self._log.info(
                    LogCode.RECONCILE_NO_BROKER_RECORD,
                    "no broker record of this submit: order stays NEW for the strategy to retry",
                    oms_id=record.oms_id,
                )
        self._log.info(LogCode.RECONCILE_DONE, "reconcile done", reason=run.reason)
        commands: list[Command] = self._resend_lost_cancels(run) if run.after_reconnect else []
        commands.append(RequestPositions())
        # a corporate action overnight shows as a changed contract: check what we work
        live = {r.request.instrument for r in self._book.orders.values() if r.status.is_live}
        commands += [
            RequestContractDetails(instrument=i) for i in sorted(live, key=lambda i: i.key)
        ]
        if run.again:
            commands += self.start("requested during the last reconcile", connected=True)
        return commands
