"""The reference engine's core: `handle(event) -> commands`, with no I/O and no wall clock.

Everything the engine knows comes in as an event (strategy intents, broker events, ticks of
broker time); everything it wants done at the broker goes out as a command, through the
message throttle. The book (book.py) applies broker facts to orders; this module decides:
submits and cancels, reconciliation, flatten-all, halts, schedules and health.

Invariants:
- `handle()` never raises: an event the engine cannot use is logged with a code.
- After a halt (326, our clientId used elsewhere, wrong account) nothing is sent again.
- Never two live broker orders for one oms_id: an order whose fate is unknown is not
  resent until reconciliation has settled it.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from ibguard.engine.book import Book, Sighting
from ibguard.engine.broker_errors import ErrorClass, classify_error, reported_state
from ibguard.engine.clock import BrokerClock, DailySchedule
from ibguard.engine.commands import (
    CancelOrder,
    Command,
    PlaceOrder,
    RequestCompletedOrders,
    RequestContractDetails,
    RequestExecutions,
    RequestOpenOrders,
    RequestPositions,
    RequestServerTime,
    RequestWhatIf,
)
from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.errors import IbguardError
from ibguard.engine.events import (
    BrokerError,
    CommissionReport,
    CompletedOrdersSnapshot,
    ConnectionLost,
    ConnectionRestored,
    ContractDetails,
    Event,
    ExecutionReport,
    ExecutionsSnapshot,
    FlattenAll,
    ManagedAccounts,
    NextValidId,
    OpenOrderReport,
    OpenOrdersSnapshot,
    OrderStatusReport,
    PositionReport,
    PositionsSnapshot,
    Reconcile,
    RequestCancel,
    ServerTime,
    SubmitOrder,
    Tick,
    WhatIfResult,
)
from ibguard.engine.flatten import FlattenReport, FlattenRun, describe_exposure, flatten_orders
from ibguard.engine.health import HealthCheck, HealthReport
from ibguard.engine.identity import is_set, make_order_ref
from ibguard.engine.lifecycle import Kind
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Instrument, OrderSnapshot, PositionSnapshot, Status
from ibguard.engine.orders import OrderRecord
from ibguard.engine.ports import AlertSink
from ibguard.engine.reconcile import ReconcilePhase, ReconcileRun
from ibguard.engine.throttle import MessageThrottle

__all__ = ["Engine"]

_STALE_CAN_APPLY = (
    Status.SUBMITTED,
    Status.WORKING,
    Status.PARTIALLY_FILLED,
    Status.CANCEL_PENDING,
)


class Engine:
    def __init__(
        self,
        config: EngineConfig,
        *,
        alerts: AlertSink | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.config = config
        self._log = DecisionLog(logger or logging.getLogger("ibguard.engine"), alerts)
        self._book = Book(config, self._log)
        self._clock = BrokerClock()
        self._throttle: MessageThrottle[Command] = MessageThrottle(config.max_messages_per_second)
        zone = config.zone
        self._eod = DailySchedule(config.eod_flatten_at, zone) if config.eod_flatten_at else None
        self._overnight = (
            DailySchedule(config.overnight_check_at, zone) if config.overnight_check_at else None
        )
        self._now: datetime | None = None
        self._connected = False
        self._halt_reason: str | None = None
        self._next_order_id: int | None = None
        self._epoch = 0
        self._reconcile: ReconcileRun | None = None
        self._reconcile_wanted: str | None = None
        self._flatten: FlattenRun | None = None
        self._flatten_seq = 0
        self.last_flatten: FlattenReport | None = None
        self._broker_positions: dict[str, Decimal] = {}
        self._positions_known = False
        self._position_mismatch: tuple[str, ...] = ()
        self._not_flat_overnight: tuple[str, ...] = ()
        self._stale_heap: list[tuple[datetime, int, str]] = []
        self._heap_seq = 0
        self._unstamped: set[str] = set()
        self._fills_since_tick = 0
        self._fills_total = 0
        self._handlers: dict[type[Any], Callable[[Any], list[Command]]] = {
            SubmitOrder: self._on_submit,
            RequestCancel: self._on_cancel,
            FlattenAll: self._on_flatten,
            Reconcile: lambda e: self._start_reconcile(e.reason),
            Tick: self._on_tick,
            OpenOrderReport: self._on_open_order,
            OrderStatusReport: self._on_status,
            ExecutionReport: self._on_execution,
            CommissionReport: self._on_commission,
            BrokerError: self._on_error,
            ConnectionLost: self._on_connection_lost,
            ConnectionRestored: self._on_connection_restored,
            NextValidId: self._on_next_valid_id,
            ManagedAccounts: self._on_managed_accounts,
            ServerTime: self._on_server_time,
            PositionReport: self._on_position,
            PositionsSnapshot: self._on_positions,
            ContractDetails: self._on_contract_details,
            OpenOrdersSnapshot: self._on_open_orders,
            CompletedOrdersSnapshot: self._on_completed_orders,
            ExecutionsSnapshot: self._on_executions,
            WhatIfResult: self._on_what_if,
        }

    # --- the one entry point -------------------------------------------------------------------

    def handle(self, event: Event) -> list[Command]:
        """Apply one event; return the commands to send now, in order. Never raises."""
        handler = self._handlers.get(type(event))
        if handler is None:
            self._log.warning(
                LogCode.EVENT_REJECTED,
                "event type the engine does not know",
                event_type=type(event).__name__,
            )
            return []
        try:
            commands = handler(event)
        except IbguardError as error:
            self._log.error(
                LogCode.EVENT_REJECTED,
                f"event could not be applied: {error}",
                event_type=type(event).__name__,
            )
            commands = []
        self._after_event()
        if self._halt_reason is not None:
            return []
        return self._throttled(commands)

    def _throttled(self, commands: list[Command]) -> list[Command]:
        before = self._throttle.depth
        out = self._throttle.submit(commands, self._now)
        if self._throttle.depth > before:
            self._log.warning(
                LogCode.RATE_LIMIT,
                "message rate limit reached: commands queued in order",
                queued=self._throttle.depth,
                limit=self.config.max_messages_per_second,
            )
        return out

    # --- intents -------------------------------------------------------------------------------

    def _on_submit(self, event: SubmitOrder) -> list[Command]:
        oms_id = event.oms_id
        if self._halt_reason is not None:
            return self._refuse(oms_id, f"halted: {self._halt_reason}")
        record = self._book.orders.get(oms_id)
        if record is not None:
            if record.status is not Status.NEW:
                return self._refuse(oms_id, f"oms_id already used ({record.status.value})")
            if record.pending_reconcile:
                return self._refuse(oms_id, "its last submit is unresolved until reconcile")
            record.request = event.request
        else:
            record = OrderRecord(oms_id=oms_id, request=event.request, created_at=self._now)
            self._book.orders[oms_id] = record
        self._book.instruments.setdefault(event.request.instrument.key, event.request.instrument)
        if not self._connected or self._next_order_id is None:
            return self._refuse(oms_id, "not connected: order kept NEW, submit again later")
        order_id = self._allocate_order_id()
        replaced = self._book.index.bind_alias(self.config.client_id, order_id, oms_id)
        if replaced is not None:
            self._log.info(
                LogCode.ORDER_ID_REUSE,
                "orderId reused by the broker: the older order stays keyed by its permId",
                order_id=order_id,
                oms_id=oms_id,
                old_oms_id=replaced,
            )
        record.order_id = order_id
        record.client_id = self.config.client_id
        record.sent_epoch = self._epoch
        self._book.move(record, Kind.SEND)
        self._log.info(LogCode.ORDER_SUBMITTED, "placeOrder sent", oms_id=oms_id, order_id=order_id)
        return [
            PlaceOrder(
                oms_id=oms_id,
                order_id=order_id,
                order_ref=make_order_ref(self.config.namespace, oms_id),
                account=self.config.account,
                request=record.request,
            )
        ]

    def _refuse(self, oms_id: str, reason: str) -> list[Command]:
        self._log.warning(LogCode.ORDER_REFUSED, reason, oms_id=oms_id, reason=reason)
        return []

    def _allocate_order_id(self) -> int:
        assert self._next_order_id is not None
        order_id = self._next_order_id
        if not is_set(order_id):
            self._log.warning(
                LogCode.ORDER_ID_WRAP,
                "orderId reached IB's limit: wrapped to 1; orders stay keyed by permId",
                order_id=order_id,
            )
            order_id = 1
        self._next_order_id = order_id + 1
        return order_id

    def _on_cancel(self, event: RequestCancel) -> list[Command]:
        record = self._book.orders.get(event.oms_id)
        if record is None:
            return self._refuse(event.oms_id, "cancel of an unknown oms_id")
        if self._halt_reason is not None:
            return self._refuse(event.oms_id, f"halted: {self._halt_reason}")
        if record.status.is_terminal:
            self._log.info(
                LogCode.CANCEL_IGNORED,
                f"cancel not sent: order already {record.status.value}",
                oms_id=record.oms_id,
                status=record.status.value,
            )
            return []
        if record.status is Status.NEW and record.pending_reconcile:
            return self._refuse(record.oms_id, "cancel waits for reconcile: fate unknown")
        if record.status is not Status.NEW and record.order_id is None:
            return self._refuse(record.oms_id, "no orderId of this client to cancel it with")
        return self._cancel(record)

    def _cancel(self, record: OrderRecord) -> list[Command]:
        was = record.status
        self._book.move(record, Kind.CANCEL_REQUEST)
        if was is Status.NEW or was is Status.CANCEL_PENDING:
            self._log.info(
                LogCode.CANCEL_REQUESTED,
                "canceled locally (never sent)" if was is Status.NEW else "cancel already pending",
                oms_id=record.oms_id,
            )
            return []
        self._log.info(LogCode.CANCEL_REQUESTED, "cancelOrder sent", oms_id=record.oms_id)
        assert record.order_id is not None  # checked by the callers
        return [CancelOrder(oms_id=record.oms_id, order_id=record.order_id, perm_id=record.perm_id)]

    def _on_flatten(self, event: FlattenAll) -> list[Command]:
        if self._halt_reason is not None:
            return self._refuse("*", f"flatten refused, halted: {self._halt_reason}")
        if self._flatten is not None:
            self._log.warning(
                LogCode.FLATTEN_RECURSION,
                "a flatten is already running: not starting another",
                reason=event.reason,
            )
            return []
        orders = flatten_orders(self._book.positions, self._book.instruments, event.reason)
        self._flatten_seq += 1
        run = FlattenRun(reason=event.reason, request_id=self._flatten_seq, orders=orders)
        self._flatten = run
        self._log.info(
            LogCode.FLATTEN_STARTED,
            "flatten-all: what-if margin check first",
            reason=event.reason,
            orders=len(orders),
        )
        return [
            RequestWhatIf(request_id=run.request_id, account=self.config.account, orders=orders)
        ]

    def _on_what_if(self, event: WhatIfResult) -> list[Command]:
        run = self._flatten
        if run is None or event.request_id != run.request_id:
            self._log.info(
                LogCode.EVENT_REJECTED,
                "what-if answer for no pending flatten",
                request_id=event.request_id,
            )
            return []
        if not event.margin_ok:
            self._flatten = None
            exposure = describe_exposure(self._book.positions, self._book.instruments)
            self.last_flatten = FlattenReport(
                reason=run.reason, orders=(), failures=(), exposure_left=exposure, aborted=True
            )
            self._log.alert(
                LogCode.FLATTEN_ABORTED,
                "flatten aborted before sending: what-if says it would violate margin",
                reason=run.reason,
                detail=event.detail,
                exposure=", ".join(exposure),
            )
            return []
        commands: list[Command] = []
        for record in list(self._book.orders.values()):
            if record.status.is_live and not record.is_flatten and record.order_id is not None:
                commands += self._cancel(record)
        for number, request in enumerate(run.orders, start=1):
            oms_id = f"flatten-{run.request_id}-{number}"
            run.oms_ids.append(oms_id)
            commands += self._on_submit(SubmitOrder(oms_id=oms_id, request=request))
        return commands

    def _flatten_progress(self) -> None:
        run = self._flatten
        if run is None or not run.oms_ids:
            if run is not None and not run.orders:
                self._finish_flatten(run)
            return
        records = [self._book.orders[oms_id] for oms_id in run.oms_ids]
        for record in records:
            if record.status is Status.REJECTED and record.oms_id not in run.recursion_logged:
                run.recursion_logged.add(record.oms_id)
                self._log.warning(
                    LogCode.FLATTEN_RECURSION,
                    "flatten order rejected: it never triggers another flatten",
                    oms_id=record.oms_id,
                    reason=run.reason,
                )
        if all(record.status.is_terminal or record.status is Status.NEW for record in records):
            self._finish_flatten(run)

    def _finish_flatten(self, run: FlattenRun) -> None:
        self._flatten = None
        failures = tuple(
            f"{oms_id}: {record.status.value}"
            for oms_id in run.oms_ids
            if (record := self._book.orders[oms_id]).status is not Status.FILLED
        )
        exposure = describe_exposure(self._book.positions, self._book.instruments)
        report = FlattenReport(
            reason=run.reason, orders=tuple(run.oms_ids), failures=failures, exposure_left=exposure
        )
        self.last_flatten = report
        fields: dict[str, object] = {
            "reason": run.reason,
            "failures": ", ".join(failures),
            "exposure": ", ".join(exposure),
            "failed": len(failures),
            "orders": len(run.oms_ids),
        }
        if report.complete:
            self._log.info(LogCode.FLATTEN_SUMMARY, "flatten complete: flat", **fields)
        elif failures and len(failures) < len(run.oms_ids):
            self._log.alert(
                LogCode.FLATTEN_PARTIAL, "flatten partly failed: exposure left", **fields
            )
        else:
            self._log.alert(LogCode.FLATTEN_SUMMARY, "flatten failed: still exposed", **fields)

    def _on_tick(self, event: Tick) -> list[Command]:
        previous, self._now = self._now, event.now
        self._book.now = event.now
        for oms_id in self._unstamped:  # moved before any broker time was known
            record = self._book.orders[oms_id]
            record.updated_at = event.now
            self._push_stale(record)
        self._unstamped.clear()
        if self._fills_since_tick and previous is not None and event.now > previous:
            seconds = Decimal(str((event.now - previous).total_seconds()))
            self._log.info(
                LogCode.FILL_RATE,
                "fills applied since the last tick",
                fills=self._fills_since_tick,
                per_second=(self._fills_since_tick / seconds).quantize(Decimal("0.1")),
            )
        self._fills_since_tick = 0
        commands: list[Command] = []  # handle() releases what the throttle holds
        if self._eod is not None and self._eod.due(event.now):
            commands += self._on_flatten(FlattenAll(reason="eod"))
        if self._overnight is not None and self._overnight.due(event.now):
            self._overnight_check()
        return commands + self._stale_scan(event.now)

    def _overnight_check(self) -> None:
        self._not_flat_overnight = describe_exposure(self._book.positions, self._book.instruments)
        if self._not_flat_overnight:
            self._log.alert(
                LogCode.HEALTH_POSITION_MISMATCH,
                "not flat at the overnight check",
                check="overnight_flat",
                exposure=", ".join(self._not_flat_overnight),
            )

    def _stale_scan(self, now: datetime) -> list[Command]:
        stale: list[str] = []
        heap = self._stale_heap
        while heap and heap[0][0] + self.config.stale_after <= now:
            touched, _, oms_id = heapq.heappop(heap)
            record = self._book.orders[oms_id]
            if (
                record.updated_at == touched
                and record.status in _STALE_CAN_APPLY
                and not record.pending_reconcile
            ):
                record.pending_reconcile = True
                stale.append(oms_id)
                self._log.warning(
                    LogCode.STATUS_STALE,
                    "no broker event for too long: asking the broker",
                    oms_id=oms_id,
                    status=record.status.value,
                    since=touched.isoformat(),
                )
        return self._start_reconcile("stale orders") if stale else []

    def _push_stale(self, record: OrderRecord) -> None:
        assert record.updated_at is not None
        self._heap_seq += 1
        heapq.heappush(self._stale_heap, (record.updated_at, self._heap_seq, record.oms_id))

    def _after_event(self) -> None:
        for oms_id in self._book.drain_touched():
            record = self._book.orders[oms_id]
            if record.updated_at is None:
                self._unstamped.add(oms_id)
            else:
                self._push_stale(record)
        self._flatten_progress()

    # --- reconciliation ------------------------------------------------------------------------

    def _start_reconcile(self, reason: str) -> list[Command]:
        if not self._connected:
            self._reconcile_wanted = reason
            return []
        if self._reconcile is not None:
            self._reconcile.again = True
            return []
        self._epoch += 1
        self._reconcile = ReconcileRun(reason=reason, epoch=self._epoch)
        self._log.info(LogCode.RECONCILE_STARTED, "reconcile: asking the broker", reason=reason)
        return [RequestOpenOrders()]

    def _on_open_orders(self, event: OpenOrdersSnapshot) -> list[Command]:
        run = self._reconcile
        for report in event.orders:
            self._note_seen(self._open_order(report, recovering=run is not None))
        if run is None or run.phase is not ReconcilePhase.OPEN_ORDERS:
            return []
        run.phase = ReconcilePhase.COMPLETED_ORDERS
        return [RequestCompletedOrders()]

    def _on_completed_orders(self, event: CompletedOrdersSnapshot) -> list[Command]:
        run = self._reconcile
        for report in event.orders:
            self._note_seen(self._open_order(report, recovering=run is not None))
        if run is None or run.phase is not ReconcilePhase.COMPLETED_ORDERS:
            return []
        run.phase = ReconcilePhase.EXECUTIONS
        return [RequestExecutions()]

    def _on_executions(self, event: ExecutionsSnapshot) -> list[Command]:
        for execution in event.executions:
            self._note_seen(self._execution(execution))
        for commission in event.commissions:
            self._on_commission(commission)
        run = self._reconcile
        if run is None or run.phase is not ReconcilePhase.EXECUTIONS:
            return []
        return self._finish_reconcile(run)

    def _note_seen(self, sighting: Sighting) -> None:
        if self._reconcile is not None and sighting.oms_id is not None:
            self._reconcile.seen.add(sighting.oms_id)

    def _finish_reconcile(self, run: ReconcileRun) -> list[Command]:
        self._reconcile = None
        for record in self._book.orders.values():
            if record.sent_epoch >= run.epoch:
                continue  # sent after the broker's answers were taken
            unresolved = record.status.is_live or record.pending_reconcile
            record.pending_reconcile = False
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
                self._forget_alias(record)
                self._log.info(
                    LogCode.RECONCILE_NO_BROKER_RECORD,
                    "no broker record of this submit: order stays NEW for the strategy to retry",
                    oms_id=record.oms_id,
                )
        self._log.info(LogCode.RECONCILE_DONE, "reconcile done", reason=run.reason)
        commands: list[Command] = [RequestPositions()]
        # a corporate action overnight shows as a changed contract: check what we work
        live = {r.request.instrument for r in self._book.orders.values() if r.status.is_live}
        commands += [
            RequestContractDetails(instrument=i) for i in sorted(live, key=lambda i: i.key)
        ]
        if run.again:
            commands += self._start_reconcile("requested during the last reconcile")
        return commands

    def _forget_alias(self, record: OrderRecord) -> None:
        self._book.index.drop_alias(record.client_id, record.order_id, record.oms_id)
        record.order_id = None
        record.client_id = None

    # --- broker events -------------------------------------------------------------------------

    def _on_open_order(self, event: OpenOrderReport) -> list[Command]:
        self._open_order(event, recovering=False)
        return []

    def _open_order(self, report: OpenOrderReport, *, recovering: bool) -> Sighting:
        if self._wrong_account(report.account, report.order_ref):
            return Sighting()
        sighting = self._book.apply_open_order(report, recovering=recovering)
        self._check_stolen(sighting, report.client_id, report.order_id)
        return sighting

    def _on_status(self, event: OrderStatusReport) -> list[Command]:
        self._book.apply_status(event)
        return []

    def _on_execution(self, event: ExecutionReport) -> list[Command]:
        self._execution(event)
        return []

    def _execution(self, report: ExecutionReport) -> Sighting:
        if self._wrong_account(report.account, report.order_ref):
            return Sighting()
        sighting = self._book.apply_execution(report)
        if sighting.oms_id is not None:
            self._fills_since_tick += 1
            self._fills_total += 1
        self._check_stolen(sighting, report.client_id, report.order_id)
        return sighting

    def _on_commission(self, event: CommissionReport) -> list[Command]:
        if self._book.apply_commission(event.exec_id, event.commission):
            self._log.debug(
                LogCode.COMMISSION,
                "commission attached",
                exec_id=event.exec_id,
                commission=event.commission,
            )
        return []

    def _wrong_account(self, account: str, order_ref: str) -> bool:
        if not account or account == self.config.account:
            return False
        if self._book.ours(order_ref) is None:
            return False  # someone else's order in another account the login can see
        self._halt(
            LogCode.ACCOUNT_MISMATCH,
            "an order of ours reports another account",
            expected=self.config.account,
            got=account,
        )
        return True

    def _check_stolen(self, sighting: Sighting, client_id: int, order_id: int) -> None:
        if sighting.stolen:
            self._halt(
                LogCode.CONNECTION_STOLEN,
                "orders of our clientId that this engine did not place: another session uses it",
                client_id=client_id,
                order_id=order_id,
            )

    def _on_error(self, event: BrokerError) -> list[Command]:
        cls = classify_error(event.code)
        ids = {"error_code": event.code, "req_id": event.req_id, "text": event.message}
        if cls is ErrorClass.CLIENT_ID_IN_USE:
            self._halt(LogCode.CONNECTION_STOLEN, "client id already in use", **ids)
            return []
        if cls is ErrorClass.CONNECTIVITY_LOST:
            return self._on_connection_lost(ConnectionLost(reason=f"error {event.code}"))
        if cls is ErrorClass.RESTORED_DATA_LOST:
            return self._on_connection_restored(ConnectionRestored(data_lost=True))
        if cls is ErrorClass.RESTORED:
            return self._on_connection_restored(ConnectionRestored(data_lost=False))
        if cls is ErrorClass.INFORMATIONAL:
            self._log.debug(LogCode.BROKER_INFO, "broker information", **ids)
            return []
        if cls is ErrorClass.RATE_EXCEEDED:
            self._log.error(
                LogCode.RATE_LIMIT,
                "broker dropped a message over its rate limit: reconciling",
                **ids,
            )
            return self._start_reconcile("broker rate limit exceeded")
        oms_id = self._book.index.by_alias(self.config.client_id, event.req_id)
        if oms_id is None:
            self._log.warning(LogCode.BROKER_ERROR, "broker error", **ids)
            return []
        return self._order_error(self._book.orders[oms_id], cls, event, ids)

    def _order_error(
        self, record: OrderRecord, cls: ErrorClass, event: BrokerError, ids: dict[str, object]
    ) -> list[Command]:
        oms_id = record.oms_id
        if cls is ErrorClass.CANCELLED:
            self._book.move(record, Kind.CANCELED)  # total for every status
            self._log.info(LogCode.ORDER_CANCELED, "order canceled", oms_id=oms_id, **ids)
            return []
        if cls is ErrorClass.REJECTED:
            record.acknowledged = True
            self._book.move(record, Kind.REJECT)  # total for every status
            self._log.warning(LogCode.ORDER_REJECTED, "order rejected", oms_id=oms_id, **ids)
            return []
        if cls is ErrorClass.DUPLICATE_ID:
            self._book.move(record, Kind.NOT_PLACED)
            self._forget_alias(record)
            assert self._next_order_id is not None
            self._next_order_id = max(self._next_order_id, event.req_id + 1)
            self._log.warning(
                LogCode.ORDER_ID_DUPLICATE,
                "duplicate orderId: the order was not placed, stays NEW",
                oms_id=oms_id,
                **ids,
            )
            return []
        if cls is ErrorClass.CANNOT_CANCEL:
            return self._cancel_refused(record, reported_state(event.message), ids)
        self._log.warning(
            LogCode.BROKER_ERROR,
            "broker error on an order: asking the broker for its state",
            oms_id=oms_id,
            **ids,
        )
        record.pending_reconcile = True
        return self._start_reconcile(f"error {event.code} on {oms_id}")

    def _cancel_refused(
        self, record: OrderRecord, state: str | None, ids: dict[str, object]
    ) -> list[Command]:
        oms_id = record.oms_id
        if record.status.is_terminal:
            self._log.info(
                LogCode.CANCEL_IGNORED,
                f"cancel refused; order stays {record.status.value}",
                oms_id=oms_id,
                **ids,
            )
            return []
        if state in ("Cancelled", "ApiCancelled", "Inactive"):
            self._book.move(record, Kind.CANCELED)
            self._log.info(
                LogCode.CANCEL_REDUNDANT, "broker says already gone: CANCELED", oms_id=oms_id, **ids
            )
            return []
        if record.status is Status.CANCEL_PENDING:
            kind = Kind.CANCEL_REFUSED_PARTIAL if record.filled else Kind.CANCEL_REFUSED_UNFILLED
            self._book.move(record, kind)
        record.pending_reconcile = True
        self._log.warning(
            LogCode.CANCEL_REFUSED,
            "cancel refused: back to the live state until the broker says more",
            oms_id=oms_id,
            broker_state=state or "",
            **ids,
        )
        return self._start_reconcile(f"cancel refused for {oms_id}")

    def _on_connection_lost(self, event: ConnectionLost) -> list[Command]:
        self._connected = False
        for command in self._throttle.clear():
            if isinstance(command, PlaceOrder):
                # never left: back to NEW, free to submit again
                record = self._book.orders[command.oms_id]
                self._book.move(record, Kind.NOT_PLACED)
                self._forget_alias(record)
        self._log.warning(LogCode.CONNECTION_LOST, "connection lost", reason=event.reason)
        for record in self._book.orders.values():
            if record.status is Status.SUBMITTED and not record.acknowledged:
                self._book.move(record, Kind.NOT_PLACED)
                record.pending_reconcile = True
                self._log.warning(
                    LogCode.SUBMIT_PENDING,
                    "placeOrder sent, no broker answer before the disconnect: NEW until reconcile",
                    oms_id=record.oms_id,
                    order_id=record.order_id,
                )
        return []

    def _on_connection_restored(self, event: ConnectionRestored) -> list[Command]:
        self._connected = True
        self._log.info(
            LogCode.CONNECTION_RESTORED,
            "connected",
            data_lost=event.data_lost,
            client_id=event.client_id,
        )
        commands: list[Command] = [RequestServerTime()]
        wanted, self._reconcile_wanted = self._reconcile_wanted, None
        if event.data_lost or wanted is not None:
            self._reconcile = None  # answers of a run cut by the disconnect never come
            commands += self._start_reconcile(wanted or "connected")
        return commands

    def _on_next_valid_id(self, event: NextValidId) -> list[Command]:
        self._next_order_id = event.order_id
        return []

    def _on_managed_accounts(self, event: ManagedAccounts) -> list[Command]:
        if self.config.account not in event.accounts:
            self._halt(
                LogCode.ACCOUNT_MISMATCH,
                "the broker session does not manage the configured account",
                expected=self.config.account,
                got=",".join(event.accounts),
            )
        return []

    def _on_server_time(self, event: ServerTime) -> list[Command]:
        skew = self._clock.measure(event.broker_time, event.local_time)
        if abs(skew) > self.config.skew_tolerance:
            self._log.warning(
                LogCode.TIME_SKEW,
                "host clock differs from broker time: deciding on broker time",
                skew_seconds=Decimal(str(skew.total_seconds())),
            )
        return []

    def _on_position(self, event: PositionReport) -> list[Command]:
        if event.account == self.config.account:
            self._broker_positions[event.instrument.key] = event.quantity
            self._book.instruments.setdefault(event.instrument.key, event.instrument)
            self._compare_positions()
        return []

    def _on_positions(self, event: PositionsSnapshot) -> list[Command]:
        self._broker_positions = {}
        for report in event.positions:
            self._on_position(report)
        self._positions_known = True
        self._compare_positions()
        return []

    def _compare_positions(self) -> None:
        if not self._positions_known:
            return
        mismatch = []
        own, foreign = self._book.positions, self._book.foreign_positions
        for key in sorted(set(own) | set(foreign) | set(self._broker_positions)):
            expected = own.get(key, Decimal(0)) + foreign.get(key, Decimal(0))
            actual = self._broker_positions.get(key, Decimal(0))
            if abs(expected - actual) > self.config.position_tolerance:
                symbol = self._book.instruments[key].symbol
                mismatch.append(f"{symbol}: engine {expected}, broker {actual}")
        if mismatch and tuple(mismatch) != self._position_mismatch:
            self._log.alert(
                LogCode.HEALTH_POSITION_MISMATCH,
                "engine and broker positions disagree",
                check="positions",
                mismatch="; ".join(mismatch),
            )
        self._position_mismatch = tuple(mismatch)

    def _on_contract_details(self, event: ContractDetails) -> list[Command]:
        new = event.instrument
        old = self._changed_instrument(new, event.previous_symbol)
        if old is None:
            self._book.instruments.setdefault(new.key, new)
            return []
        self._log.alert(
            LogCode.CONTRACT_CHANGED,
            "contract changed: cancelling working orders on the old contract",
            old_symbol=old.symbol,
            new_symbol=new.symbol,
            old_con_id=old.con_id,
            new_con_id=new.con_id,
        )
        book = self._book
        book.instruments[new.key] = new
        quantity = book.positions.pop(old.key, Decimal(0))
        if quantity:
            book.positions[new.key] = book.positions.get(new.key, Decimal(0)) + quantity
        commands: list[Command] = []
        for record in list(book.orders.values()):
            on_old = record.request.instrument.key == old.key
            if on_old and record.status.is_live and record.order_id is not None:
                commands += self._cancel(record)
        return commands

    def _changed_instrument(
        self, new: Instrument, previous_symbol: str | None
    ) -> Instrument | None:
        for instrument in self._book.instruments.values():
            if instrument.key == new.key:
                continue
            renamed = bool(new.con_id) and instrument.con_id == new.con_id
            if renamed or (previous_symbol is not None and instrument.symbol == previous_symbol):
                return instrument
        return None

    # --- halts ---------------------------------------------------------------------------------

    def _halt(self, code: LogCode, message: str, **fields: object) -> None:
        if self._halt_reason is not None:
            return
        self._halt_reason = code.value
        self._throttle.clear()
        self._log.alert(code, f"{message}: trading halted", **fields)

    # --- views ---------------------------------------------------------------------------------

    @property
    def halted(self) -> bool:
        return self._halt_reason is not None

    @property
    def halt_reason(self) -> str | None:
        return self._halt_reason

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def now(self) -> datetime | None:
        """The latest broker time the engine has seen (from ticks)."""
        return self._now

    @property
    def skew(self) -> float | None:
        skew = self._clock.skew
        return None if skew is None else skew.total_seconds()

    @property
    def queue_depth(self) -> int:
        return self._throttle.depth

    @property
    def fills_total(self) -> int:
        return self._fills_total

    def broker_time(self, local_time: datetime) -> datetime:
        """The broker's time for a reading of the host clock (uses the measured skew)."""
        return self._clock.to_broker(local_time)

    def order(self, oms_id: str) -> OrderSnapshot | None:
        record = self._book.orders.get(oms_id)
        return None if record is None else record.snapshot()

    def orders(self) -> tuple[OrderSnapshot, ...]:
        return tuple(record.snapshot() for record in self._book.orders.values())

    def status_counts(self) -> dict[Status, int]:
        counts = dict.fromkeys(Status, 0)
        for record in self._book.orders.values():
            counts[record.status] += 1
        return counts

    def positions(self) -> tuple[PositionSnapshot, ...]:
        """The strategy's own positions (foreign fills left out), non-zero only."""
        return self._position_views(self._book.positions)

    def broker_positions(self) -> tuple[PositionSnapshot, ...]:
        return self._position_views(self._broker_positions)

    def position(self, instrument: Instrument) -> Decimal:
        return self._book.positions.get(instrument.key, Decimal(0))

    def _position_views(self, table: dict[str, Decimal]) -> tuple[PositionSnapshot, ...]:
        return tuple(
            PositionSnapshot(instrument=self._book.instruments[key], quantity=quantity)
            for key, quantity in sorted(table.items())
            if quantity
        )

    def health(self) -> HealthReport:
        stale = sum(1 for record in self._book.orders.values() if record.pending_reconcile)
        return HealthReport(
            checks=(
                HealthCheck(
                    name="connected",
                    ok=self._connected,
                    reason="" if self._connected else "broker connection down",
                ),
                HealthCheck(
                    name="halted", ok=self._halt_reason is None, reason=self._halt_reason or ""
                ),
                HealthCheck(
                    name="positions",
                    ok=not self._position_mismatch,
                    reason="; ".join(self._position_mismatch),
                ),
                HealthCheck(
                    name="overnight_flat",
                    ok=not self._not_flat_overnight or not self._book_exposure(),
                    reason=", ".join(self._not_flat_overnight),
                ),
                HealthCheck(
                    name="stale_orders",
                    ok=not stale,
                    reason=f"{stale} order(s) awaiting reconcile" if stale else "",
                ),
            )
        )

    def _book_exposure(self) -> bool:
        return any(self._book.positions.values())
