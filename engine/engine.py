"""The reference engine's core: `handle(event) -> commands`, with no I/O and no wall clock.

Everything the engine knows comes in as an event (strategy intents, broker events, ticks of
broker time); everything it wants done at the broker goes out as a command, through the
message throttle. The Engine routes each event to the part that owns the decision:
- book.py applies broker facts to orders (fills, acknowledgements, what is ours);
- desk.py submits and cancels and reads the broker's errors about orders;
- reconcile.py asks the broker for the truth and lets it win;
- flatten.py closes the book; position_watch.py compares positions; stale.py times out;
- session.py is the broker session's state (disconnected, syncing, ready, halted);
- guard.py halts on identity faults; outbox.py sends through the rate limit;
- timekeeping.py keeps broker time, the skew, the daily schedules and the fill rate.
The Engine itself only routes.

Invariants:
- `handle()` never raises: an event the engine cannot use is logged with a code.
- After a halt (326, our clientId used elsewhere, wrong account) nothing is sent again.
- Never two live broker orders for one oms_id: an order whose fate is unknown is not
  resent until reconciliation has settled it.
- A due flatten is never lost: replaying the journal rebuilds it, and it runs once the
  session is up and reconciled (flatten.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from ibguard.engine.book import Book
from ibguard.engine.broker_errors import ErrorClass, classify_error
from ibguard.engine.commands import Command, RequestServerTime
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
from ibguard.engine.guard import Guard
from ibguard.engine.health import HealthCheck, HealthReport
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Instrument, OrderSnapshot, PositionSnapshot, Status
from ibguard.engine.outbox import Outbox
from ibguard.engine.ports import AlertSink
from ibguard.engine.position_watch import PositionWatch
from ibguard.engine.reconcile import Reconciler
from ibguard.engine.session import Session, SessionMove, SessionState
from ibguard.engine.stale import StaleTimer
from ibguard.engine.timekeeping import Timekeeper

__all__ = ["RESTARTED", "Engine"]

# The event a replay ends with: the process that wrote the journal is gone, and its broker
# session with it. A shell that journals appends this event after replaying, so the next
# replay sees the restart where this process saw it (handling it twice changes nothing).
RESTARTED: Final = ConnectionLost(reason="engine restarted")


def _no_commands(apply: Callable[[Any], object]) -> Callable[[Any], list[Command]]:
    """The handler of an event that only changes state: nothing to send after it."""

    def handler(event: Any) -> list[Command]:
        apply(event)
        return []

    return handler


class Engine:
    def __init__(
        self,
        config: EngineConfig,
        *,
        alerts: AlertSink | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.config = config
        self._account = config.account
        self._log = DecisionLog(logger or logging.getLogger("ibguard.engine"), alerts)
        self._book = Book(config, self._log)
        self._desk = OrderDesk(config, self._book, self._log)
        self._reconciler = Reconciler(self._book, self._log)
        self._flattener = Flattener(config, self._book, self._log, self._desk)
        self._positions = PositionWatch(config, self._book, self._log)
        self._stale = StaleTimer(self._book, config.stale_after)
        self._session = Session()
        self._outbox = Outbox(config, self._desk, self._log)
        self._guard = Guard(config, self._book, self._session, self._outbox, self._log)
        self._time = Timekeeper(config, self._log)
        self._direct_status = self._book.direct_status  # bound once: called per event
        self._direct_fill = self._book.direct_fill
        self._handlers: dict[type[Any], Callable[[Any], list[Command]]] = {
            SubmitOrder: self._on_submit,
            RequestCancel: self._on_cancel,
            FlattenAll: self._on_flatten,
            Reconcile: lambda e: self._reconcile(e.reason),
            Tick: self._on_tick,
            OpenOrderReport: _no_commands(self._open_order),
            OrderStatusReport: _no_commands(self._book.apply_status),
            ExecutionReport: self._on_execution,
            CommissionReport: self._on_commission,
            BrokerError: self._on_error,
            ConnectionLost: self._on_connection_lost,
            ConnectionRestored: self._on_connection_restored,
            NextValidId: _no_commands(self._desk.next_valid_id),
            ManagedAccounts: _no_commands(lambda e: self._guard.managed_accounts(e.accounts)),
            ServerTime: _no_commands(self._time.server_time),
            PositionReport: _no_commands(self._positions.on_position),
            PositionsSnapshot: _no_commands(lambda e: self._positions.on_snapshot(e.positions)),
            ContractDetails: self._on_contract_details,
            OpenOrdersSnapshot: self._on_open_orders,
            CompletedOrdersSnapshot: self._on_completed_orders,
            ExecutionsSnapshot: self._on_executions,
            WhatIfResult: lambda e: self._flattener.on_what_if(e, self._on_submit),
        }

    # --- the one entry point -------------------------------------------------------------------

    def handle(self, event: Event) -> list[Command]:
        """Apply one event; return the commands to send now, in order. Never raises."""
        cls = type(event)
        # the common broker facts first: a status or a fill of an order known by its permId
        # (nothing to send after them unless a flatten runs or commands wait for the rate)
        # (exact types, checked by `is`: faster than isinstance, but mypy does not narrow)
        if cls is OrderStatusReport:
            if self._direct_status(event) is not None:  # type: ignore[arg-type]  # checked
                if self._flattener.run is None and not self._outbox.waiting:
                    return []
                return self._after([])
        elif cls is ExecutionReport and (
            not event.account  # type: ignore[union-attr]  # cls is ExecutionReport
            or event.account == self._account  # type: ignore[union-attr]  # idem
        ):
            record = self._direct_fill(event)  # type: ignore[arg-type]  # checked above
            if record is not None:
                time = self._time
                time.fills_since_tick += 1
                time.fills_total += 1
                if self._reconciler.run is not None:
                    self._reconciler.saw(record.oms_id)
                if self._flattener.run is None and not self._outbox.waiting:
                    return []
                return self._after([])
        handler = self._handlers.get(cls)
        if handler is None:
            self._log.warning(
                LogCode.EVENT_REJECTED,
                "event type the engine does not know",
                event_type=cls.__name__,
            )
            return []
        try:
            commands = handler(event)
        except IbguardError as error:
            self._log.error(
                LogCode.EVENT_REJECTED,
                f"event could not be applied: {error}",
                event_type=cls.__name__,
            )
            commands = []
        return self._after(commands)

    def _after(self, commands: list[Command]) -> list[Command]:
        """What every event ends with: the due flatten moves on, and the throttle lets
        through what the rate allows (only when there is something to send or waiting)."""
        session = self._session
        if session.halted:
            return []
        if self._flattener.run is not None:
            commands += self._flattener.drive(
                ready=session.ready, now=self._time.now, submit=self._on_submit
            )
        if commands or self._outbox.waiting:
            return self._outbox.send(commands, self._time.now)
        return commands

    def replay(self, events: Iterable[Event]) -> int:
        """Rebuild the book from a journal of past events, quietly: their decisions were
        logged and their commands sent (or lost) before. Returns how many were replayed.

        The process that wrote the journal is gone, and its broker session with it: the
        book ends as after a disconnect (RESTARTED: unanswered submits in doubt, a what-if
        asked on that session due again), and the next connection reconciles. Append
        RESTARTED to the journal after this, so a later replay takes the same path."""
        self._log.muted = True
        count = 0
        try:
            for event in events:
                self.handle(event)
                count += 1
            self.handle(RESTARTED)
        finally:
            self._log.muted = False
            self._outbox.reset()
        self._log.info(LogCode.JOURNAL_REPLAYED, "book rebuilt from the journal", events=count)
        run = self._flattener.run
        if run is not None:
            self._log.warning(
                LogCode.FLATTEN_DUE,
                "a flatten was due before the restart: it resumes once the session is "
                "up and reconciled",
                reason=run.reason,
                phase=run.phase.value,
            )
        return count

    # --- intents -------------------------------------------------------------------------------

    def _on_submit(self, event: SubmitOrder) -> list[Command]:
        if self._session.halted:
            return self._desk.refuse(event.oms_id, f"halted: {self._session.halt_reason}")
        return self._desk.submit(
            event, connected=self._session.connected, epoch=self._reconciler.epoch
        )

    def _on_cancel(self, event: RequestCancel) -> list[Command]:
        if self._session.halted:
            return self._desk.refuse(event.oms_id, f"halted: {self._session.halt_reason}")
        self._outbox.withdraw_place(event.oms_id)  # still waiting for the rate: never sent
        return self._desk.request_cancel(event.oms_id)

    def _on_flatten(self, event: FlattenAll) -> list[Command]:
        if self._session.halted:
            reason = f"flatten refused, halted: {self._session.halt_reason}"
            return self._desk.refuse("*", reason)
        self._flattener.request(event.reason, ready=self._session.ready)
        return []  # the flatten moves on at the end of this and every later event

    def _reconcile(self, reason: str) -> list[Command]:
        return self._reconciler.start(reason, connected=self._session.connected)

    # --- time ----------------------------------------------------------------------------------

    def _on_tick(self, event: Tick) -> list[Command]:
        now = event.now
        self._book.set_time(now)
        eod, overnight = self._time.tick(now)
        if eod:
            self._on_flatten(FlattenAll(reason="eod"))
        if overnight:
            self._positions.overnight_check()
        stale = self._stale.due(now)
        for record in stale:
            self._book.await_reconcile(record)
            self._log.warning(
                LogCode.STATUS_STALE,
                "no broker event for too long: asking the broker",
                oms_id=record.oms_id,
                status=record.status.value,
            )
        return self._reconcile("stale orders") if stale else []

    # --- broker reports ------------------------------------------------------------------------

    def _open_order(self, report: OpenOrderReport) -> None:
        if self._guard.wrong_account(report.account, report.order_ref):
            return
        sighting = self._book.apply_open_order(report, recovering=self._reconciler.running)
        self._guard.check_stolen(sighting, report.client_id, report.order_id)
        self._reconciler.saw(sighting.oms_id)

    def _on_execution(self, event: ExecutionReport) -> list[Command]:
        if self._guard.wrong_account(event.account, event.order_ref):
            return []
        sighting = self._book.apply_execution(event)
        if sighting.oms_id is not None:
            self._time.fills_since_tick += 1
            self._time.fills_total += 1
        self._guard.check_stolen(sighting, event.client_id, event.order_id)
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
        finished = self._reconciler.finished
        commands = self._reconciler.executions_done()
        if self._reconciler.finished != finished:
            self._session.move(SessionMove.RECONCILED)
        return commands

    def _on_contract_details(self, event: ContractDetails) -> list[Command]:
        new = event.instrument
        old = self._book.changed_instrument(new, event.previous_symbol)
        if old is None:
            self._book.know(new)
            return []
        return self._desk.contract_changed(old, new)

    # --- errors, connection, identity ----------------------------------------------------------

    def _on_error(self, event: BrokerError) -> list[Command]:
        cls = classify_error(event.code)
        ids = {"error_code": event.code, "req_id": event.req_id, "text": event.message}
        if cls is ErrorClass.CLIENT_ID_IN_USE:
            self._guard.halt(LogCode.CONNECTION_STOLEN, "client id already in use", **ids)
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
        record = self._book.by_alias(self.config.client_id, event.req_id)
        if record is None:
            self._log.warning(LogCode.BROKER_ERROR, "broker error", **ids)
            return []
        reason = self._desk.order_error(record, cls, event)
        return self._reconcile(reason) if reason is not None else []

    def _on_connection_lost(self, event: ConnectionLost) -> list[Command]:
        self._session.move(SessionMove.LOST)
        self._outbox.drop()
        if event == RESTARTED:  # journaled: a replay sees each restart where it happened
            self._time.restarted()
        self._log.warning(LogCode.CONNECTION_LOST, "connection lost", reason=event.reason)
        self._flattener.connection_lost()
        if self._desk.connection_lost():  # even a restore that kept its data must settle them
            self._reconcile("submits in doubt after a disconnect")
        return []

    def _on_connection_restored(self, event: ConnectionRestored) -> list[Command]:
        self._log.info(
            LogCode.CONNECTION_RESTORED,
            "connected",
            data_lost=event.data_lost,
            client_id=event.client_id,
        )
        commands: list[Command] = [
            RequestServerTime(),
            *self._reconciler.restart_after_reconnect(event.data_lost),
        ]
        running = self._reconciler.running
        self._session.move(SessionMove.CONNECTED if running else SessionMove.RESTORED)
        return commands

    # --- views ---------------------------------------------------------------------------------

    @property
    def halted(self) -> bool:
        return self._session.halted

    @property
    def halt_reason(self) -> str | None:
        return self._session.halt_reason

    @property
    def connected(self) -> bool:
        return self._session.connected

    @property
    def session_state(self) -> SessionState:
        return self._session.state

    @property
    def now(self) -> datetime | None:
        """The latest broker time the engine has seen (from ticks)."""
        return self._time.now

    @property
    def skew(self) -> float | None:
        """Measured broker - local clock difference in seconds, None before any reading."""
        return self._time.skew

    @property
    def queue_depth(self) -> int:
        return self._outbox.depth

    @property
    def fills_total(self) -> int:
        return self._time.fills_total

    @property
    def last_flatten(self) -> FlattenReport | None:
        return self._flattener.last

    @property
    def flatten_pending(self) -> str | None:
        """The reason of a due flatten not done yet, None when there is none."""
        run = self._flattener.run
        return None if run is None else run.reason

    def broker_time(self, local_time: datetime) -> datetime:
        """The broker's time for a reading of the host clock (uses the measured skew)."""
        return self._time.to_broker(local_time)

    def order(self, oms_id: str) -> OrderSnapshot | None:
        record = self._book.orders.get(oms_id)
        return None if record is None else record.snapshot(self.config.client_id)

    def orders(self) -> tuple[OrderSnapshot, ...]:
        client_id = self.config.client_id
        return tuple(record.snapshot(client_id) for record in self._book.orders.values())

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

    def _position_views(self, table: Mapping[str, Decimal]) -> tuple[PositionSnapshot, ...]:
        return tuple(
            PositionSnapshot(instrument=self._book.instruments[key], quantity=quantity)
            for key, quantity in sorted(table.items())
            if quantity
        )

    def health(self) -> HealthReport:
        connected = self._session.connected
        halt = self._session.halt_reason
        stale = self._book.awaiting_reconcile
        return HealthReport(
            checks=(
                HealthCheck(
                    name="connected",
                    ok=connected,
                    reason="" if connected else "broker connection down",
                ),
                HealthCheck(name="halted", ok=halt is None, reason=halt or ""),
                *self._positions.checks(),
                HealthCheck(
                    name="stale_orders",
                    ok=not stale,
                    reason=f"{stale} order(s) awaiting reconcile" if stale else "",
                ),
                self._flattener.check(),
            )
        )
