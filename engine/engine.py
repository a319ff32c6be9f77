"""The reference engine's core: `handle(event) -> commands`, with no I/O and no wall clock.

Everything the engine knows comes in as an event (strategy intents, broker events, ticks of
broker time); everything it wants done at the broker goes out as a command, through the
message throttle. The Engine routes each event to the part that owns the decision:
- book.py applies broker facts to orders (fills, acknowledgements, what is ours);
- desk.py submits and cancels and reads the broker's errors about orders;
- reconcile.py asks the broker for the truth and lets it win;
- flatten.py closes the book; position_watch.py compares positions; stale.py times out.
It decides itself on connection, halts, time and schedules.

Invariants:
- `handle()` never raises: an event the engine cannot use is logged with a code.
- After a halt (326, our clientId used elsewhere, wrong account) nothing is sent again.
- Never two live broker orders for one oms_id: an order whose fate is unknown is not
  resent until reconciliation has settled it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from ibguard.engine.book import Book, Sighting
from ibguard.engine.broker_errors import ErrorClass, classify_error
from ibguard.engine.clock import BrokerClock, DailySchedule
from ibguard.engine.commands import CancelOrder, Command, PlaceOrder, RequestServerTime
from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.desk import OrderDesk
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
from ibguard.engine.flatten import Flattener, FlattenReport
from ibguard.engine.health import HealthCheck, HealthReport
from ibguard.engine.lifecycle import Kind
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Instrument, OrderSnapshot, PositionSnapshot, Status
from ibguard.engine.ports import AlertSink
from ibguard.engine.position_watch import PositionWatch
from ibguard.engine.reconcile import Reconciler
from ibguard.engine.stale import StaleTimer
from ibguard.engine.throttle import MessageThrottle

__all__ = ["Engine"]


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
        self._desk = OrderDesk(config, self._book, self._log)
        self._reconciler = Reconciler(self._book, self._log, self._desk)
        self._flattener = Flattener(config, self._book, self._log, self._desk)
        self._positions = PositionWatch(config, self._book, self._log)
        self._stale = StaleTimer(self._book, config.stale_after)
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
        self._fills_since_tick = 0
        self._fills_total = 0
        self._handlers: dict[type[Any], Callable[[Any], list[Command]]] = {
            SubmitOrder: self._on_submit,
            RequestCancel: self._on_cancel,
            FlattenAll: self._on_flatten,
            Reconcile: lambda e: self._reconcile(e.reason),
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
        self._stale.touched(self._book.drain_touched())
        self._flattener.progress()
        if self._halt_reason is not None:
            return []
        return self._throttled(commands)

    def replay(self, events: Iterable[Event]) -> int:
        """Rebuild the book from a journal of past events, quietly: their decisions were
        logged and their commands sent (or lost) before. Returns how many were replayed."""
        self._log.muted = True
        count = 0
        try:
            for event in events:
                self.handle(event)
                count += 1
        finally:
            self._log.muted = False
            self._throttle.reset()
        self._log.info(LogCode.JOURNAL_REPLAYED, "book rebuilt from the journal", events=count)
        return count

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
        if self._halt_reason is not None:
            return self._desk.refuse(event.oms_id, f"halted: {self._halt_reason}")
        return self._desk.submit(
            event, now=self._now, connected=self._connected, epoch=self._reconciler.epoch
        )

    def _on_cancel(self, event: RequestCancel) -> list[Command]:
        if self._halt_reason is not None:
            return self._desk.refuse(event.oms_id, f"halted: {self._halt_reason}")
        oms_id = event.oms_id
        queued = self._throttle.withdraw(lambda c: isinstance(c, PlaceOrder) and c.oms_id == oms_id)
        if isinstance(queued, PlaceOrder):  # still waiting for the rate limit: never sent
            self._desk.never_sent(queued)
        return self._desk.request_cancel(oms_id)

    def _on_flatten(self, event: FlattenAll) -> list[Command]:
        if self._halt_reason is not None:
            return self._desk.refuse("*", f"flatten refused, halted: {self._halt_reason}")
        return self._flattener.start(event.reason, self._now)

    def _on_what_if(self, event: WhatIfResult) -> list[Command]:
        return self._flattener.on_what_if(event, self._on_submit)

    def _reconcile(self, reason: str) -> list[Command]:
        return self._reconciler.start(reason, connected=self._connected)

    # --- time ----------------------------------------------------------------------------------

    def _on_tick(self, event: Tick) -> list[Command]:
        previous, self._now = self._now, event.now
        self._book.now = event.now
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
        self._flattener.expire(event.now, self.config.what_if_timeout)
        if self._overnight is not None and self._overnight.due(event.now):
            self._positions.overnight_check()
        stale = self._stale.due(event.now)
        for oms_id in stale:
            record = self._book.orders[oms_id]
            record.pending_reconcile = True
            self._log.warning(
                LogCode.STATUS_STALE,
                "no broker event for too long: asking the broker",
                oms_id=oms_id,
                status=record.status.value,
            )
        return commands + (self._reconcile("stale orders") if stale else [])

    def _on_server_time(self, event: ServerTime) -> list[Command]:
        skew = self._clock.measure(event.broker_time, event.local_time)
        if abs(skew) > self.config.skew_tolerance:
            self._log.warning(
                LogCode.TIME_SKEW,
                "host clock differs from broker time: deciding on broker time",
                skew_seconds=Decimal(str(skew.total_seconds())),
            )
        return []

    # --- broker reports ------------------------------------------------------------------------

    def _on_open_order(self, event: OpenOrderReport) -> list[Command]:
        self._open_order(event)
        return []

    def _open_order(self, report: OpenOrderReport) -> Sighting:
        if self._wrong_account(report.account, report.order_ref):
            return Sighting()
        sighting = self._book.apply_open_order(report, recovering=self._reconciler.running)
        self._check_stolen(sighting, report.client_id, report.order_id)
        self._reconciler.saw(sighting.oms_id)
        return sighting

    def _on_status(self, event: OrderStatusReport) -> list[Command]:
        self._book.apply_status(event)
        return []

    def _on_execution(self, event: ExecutionReport) -> list[Command]:
        if self._wrong_account(event.account, event.order_ref):
            return []
        sighting = self._book.apply_execution(event)
        if sighting.oms_id is not None:
            self._fills_since_tick += 1
            self._fills_total += 1
        self._check_stolen(sighting, event.client_id, event.order_id)
        self._reconciler.saw(sighting.oms_id)
        return []

    def _on_commission(self, event: CommissionReport) -> list[Command]:
        if self._book.apply_commission(event.exec_id, event.commission):
            self._log.debug(
                LogCode.COMMISSION,
                "commission attached",
                exec_id=event.exec_id,
                commission=event.commission,
            )
        return []

    def _on_open_orders(self, event: OpenOrdersSnapshot) -> list[Command]:
        for report in event.orders:
            self._open_order(report)
        return self._reconciler.open_orders_done()

    def _on_completed_orders(self, event: CompletedOrdersSnapshot) -> list[Command]:
        for report in event.orders:
            self._open_order(report)
        return self._reconciler.completed_orders_done()

    def _on_executions(self, event: ExecutionsSnapshot) -> list[Command]:
        for execution in event.executions:
            self._on_execution(execution)
        for commission in event.commissions:
            self._on_commission(commission)
        return self._reconciler.executions_done()

    def _on_position(self, event: PositionReport) -> list[Command]:
        self._positions.on_position(event)
        return []

    def _on_positions(self, event: PositionsSnapshot) -> list[Command]:
        self._positions.on_snapshot(event.positions)
        return []

    def _on_contract_details(self, event: ContractDetails) -> list[Command]:
        new = event.instrument
        book = self._book
        old = book.changed_instrument(new, event.previous_symbol)
        if old is None:
            book.know(new)
            return []
        self._log.alert(
            LogCode.CONTRACT_CHANGED,
            "contract changed: cancelling working orders on the old contract",
            old_symbol=old.symbol,
            new_symbol=new.symbol,
            old_con_id=old.con_id,
            new_con_id=new.con_id,
        )
        book.know(new, replace=True)
        quantity = book.positions.pop(old.key, Decimal(0))
        if quantity:
            book.positions[new.key] = book.positions.get(new.key, Decimal(0)) + quantity
        commands: list[Command] = []
        for record in list(book.orders.values()):
            on_old = record.request.instrument.key == old.key
            if on_old and record.status.is_live and record.order_id is not None:
                commands += self._desk.cancel(record)
        return commands

    # --- errors, connection, identity ----------------------------------------------------------

    def _on_error(self, event: BrokerError) -> list[Command]:
        cls = classify_error(event.code)
        ids = {"error_code": event.code, "req_id": event.req_id, "text": event.message}
        if cls is ErrorClass.CLIENT_ID_IN_USE:
            self._halt(LogCode.CONNECTION_STOLEN, "client id already in use", **ids)
            return []
        if cls is ErrorClass.CONNECTIVITY_LOST:
            return self._on_connection_lost(ConnectionLost(reason=f"error {event.code}"))
        if cls is ErrorClass.RESTORED_DATA_LOST or cls is ErrorClass.RESTORED:
            data_lost = cls is ErrorClass.RESTORED_DATA_LOST
            return self._on_connection_restored(ConnectionRestored(data_lost=data_lost))
        if cls is ErrorClass.INFORMATIONAL:
            self._log.debug(LogCode.BROKER_INFO, "broker information", **ids)
            return []
        if cls is ErrorClass.RATE_EXCEEDED:
            self._log.error(
                LogCode.RATE_LIMIT, "broker dropped a message over its rate limit", **ids
            )
            return self._reconcile("broker rate limit exceeded")
        oms_id = self._book.index.by_alias(self.config.client_id, event.req_id)
        if oms_id is None:
            self._log.warning(LogCode.BROKER_ERROR, "broker error", **ids)
            return []
        reason = self._desk.order_error(self._book.orders[oms_id], cls, event)
        return self._reconcile(reason) if reason is not None else []

    def _drop_queued(self) -> None:
        """Commands waiting for the rate limit that will never go: undo what they meant."""
        for command in self._throttle.clear():
            if isinstance(command, PlaceOrder):
                self._desk.never_sent(command)
            elif isinstance(command, CancelOrder):
                self._desk.cancel_not_sent(command)

    def _on_connection_lost(self, event: ConnectionLost) -> list[Command]:
        self._connected = False
        self._drop_queued()
        self._log.warning(LogCode.CONNECTION_LOST, "connection lost", reason=event.reason)
        self._flattener.connection_lost()
        in_doubt = False
        for record in self._book.orders.values():
            if record.status is Status.SUBMITTED and not record.acknowledged:
                in_doubt = True
                self._book.move(record, Kind.NOT_PLACED)
                record.pending_reconcile = True
                self._log.warning(
                    LogCode.SUBMIT_PENDING,
                    "placeOrder sent, no broker answer before the disconnect: NEW until reconcile",
                    oms_id=record.oms_id,
                    order_id=record.order_id,
                )
        if in_doubt:  # even a restore that kept its data (1102) must settle them
            self._reconcile("submits in doubt after a disconnect")
        return []

    def _on_connection_restored(self, event: ConnectionRestored) -> list[Command]:
        self._connected = True
        self._log.info(
            LogCode.CONNECTION_RESTORED,
            "connected",
            data_lost=event.data_lost,
            client_id=event.client_id,
        )
        return [RequestServerTime(), *self._reconciler.restart_after_reconnect(event.data_lost)]

    def _on_next_valid_id(self, event: NextValidId) -> list[Command]:
        self._desk.next_order_id = event.order_id
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

    def _halt(self, code: LogCode, message: str, **fields: object) -> None:
        if self._halt_reason is not None:
            return
        self._halt_reason = code.value
        self._drop_queued()
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
        """Measured broker - local clock difference in seconds, None before any reading."""
        skew = self._clock.skew
        return None if skew is None else skew.total_seconds()

    @property
    def queue_depth(self) -> int:
        return self._throttle.depth

    @property
    def fills_total(self) -> int:
        return self._fills_total

    @property
    def last_flatten(self) -> FlattenReport | None:
        return self._flattener.last

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
        return self._position_views(self._positions.broker)

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
        halt = self._halt_reason
        return HealthReport(
            checks=(
                HealthCheck(
                    name="connected",
                    ok=self._connected,
                    reason="" if self._connected else "broker connection down",
                ),
                HealthCheck(name="halted", ok=halt is None, reason=halt or ""),
                *self._positions.checks(),
                HealthCheck(
                    name="stale_orders",
                    ok=not stale,
                    reason=f"{stale} order(s) awaiting reconcile" if stale else "",
                ),
            )
        )
