"""Flatten-all: a due flatten is never lost, and its summary is judged on positions.

A flatten is *due* from the moment it is asked for (FlattenAll, or the EOD schedule on
broker time) until it is done or reported failed. Everything it depends on arrives as
journaled events, so replaying the journal after a restart rebuilds a due or half-done
flatten exactly, and it carries on.

Phases of the one flatten that can run at a time:
- DUE: waits for the broker session to be up and reconciled (a book that may not match
  the broker must not be closed), then asks the broker's what-if check.
- WHAT_IF: waits for the answer. Margin says no: nothing is sent, reported failed
  (FAIL-07). No answer in time: asked again, up to MAX_WHAT_IF_ATTEMPTS, then reported
  failed. The session drops: DUE again.
- ORDERS: working orders cancelled, one closing order per position sent. A closing order
  that was not placed after all (lost at a disconnect or a restart, duplicate id) is sent
  again once the session is ready, up to MAX_PLACE_ATTEMPTS. When every order is final and
  the executions of the filled ones are counted (the position moved), one summary names
  each failure and the exposure left (FAIL-01, FAIL-02); executions still missing after
  `flatten_fill_wait` of broker time are failures too.
Flatten orders carry `flatten_reason`, so a rejected one never starts another (FAIL-03).
Progress is incremental: each event costs the flatten orders it moved, never a rescan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import final

from ibguard.engine.book import Book
from ibguard.engine.commands import Command, RequestWhatIf
from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.desk import OrderDesk
from ibguard.engine.events import SubmitOrder, WhatIfResult
from ibguard.engine.health import HealthCheck
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Instrument, OrderRequest, OrderType, Side, Status
from ibguard.engine.orders import OrderRecord

__all__ = [
    "MAX_PLACE_ATTEMPTS",
    "MAX_WHAT_IF_ATTEMPTS",
    "FlattenPhase",
    "FlattenReport",
    "FlattenRun",
    "Flattener",
    "describe_exposure",
    "flatten_orders",
]

MAX_WHAT_IF_ATTEMPTS = 3
MAX_PLACE_ATTEMPTS = 3


def flatten_orders(
    positions: Mapping[str, Decimal], instruments: Mapping[str, Instrument], reason: str
) -> tuple[OrderRequest, ...]:
    """One market order per non-zero position, closing it."""
    return tuple(
        OrderRequest(
            instrument=instruments[key],
            side=Side.SELL if quantity > 0 else Side.BUY,
            quantity=abs(quantity),
            order_type=OrderType.MARKET,
            flatten_reason=reason,
        )
        for key, quantity in sorted(positions.items())
        if quantity
    )


def describe_exposure(
    positions: Mapping[str, Decimal], instruments: Mapping[str, Instrument]
) -> tuple[str, ...]:
    """("TSLA long 100", "AAPL short 5") for every non-zero position."""
    return tuple(
        f"{instruments[key].symbol} {'long' if quantity > 0 else 'short'} {abs(quantity)}"
        for key, quantity in sorted(positions.items())
        if quantity
    )


class FlattenPhase(str, Enum):
    DUE = "DUE"
    WHAT_IF = "WHAT_IF"
    ORDERS = "ORDERS"


@dataclass(slots=True)
class FlattenRun:
    reason: str
    phase: FlattenPhase = FlattenPhase.DUE
    request_id: int = 0
    orders: tuple[OrderRequest, ...] = ()
    asked_at: datetime | None = None  # broker time of the latest what-if request
    what_ifs: int = 0
    oms_ids: list[str] = field(default_factory=list)
    open: set[str] = field(default_factory=set)  # not final yet
    unplaced: set[str] = field(default_factory=set)  # NEW, no broker record: send again
    unfilled: set[str] = field(default_factory=set)  # FILLED, its executions not all in
    places: dict[str, int] = field(default_factory=dict)
    given_up: set[str] = field(default_factory=set)  # not placed after MAX_PLACE_ATTEMPTS
    fills_since: datetime | None = None  # broker time all were final, executions missing
    recursion_logged: set[str] = field(default_factory=set)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class FlattenReport:
    """The outcome of one flatten: what failed and what is still open."""

    reason: str
    orders: tuple[str, ...]
    failures: tuple[str, ...]
    exposure_left: tuple[str, ...]
    aborted: bool = False

    @property
    def complete(self) -> bool:
        return not self.failures and not self.exposure_left and not self.aborted


Submit = Callable[[SubmitOrder], list[Command]]


class Flattener:
    """Runs one flatten at a time. Orders go out through `submit` (the Engine's own submit
    path, so halts, throttling and ids apply to flatten orders like to any other)."""

    def __init__(self, config: EngineConfig, book: Book, log: DecisionLog, desk: OrderDesk) -> None:
        self._config = config
        self._book = book
        self._log = log
        self._desk = desk
        self.run: FlattenRun | None = None
        self._seq = 0
        self.last: FlattenReport | None = None

    # --- asking --------------------------------------------------------------------------------

    def request(self, reason: str, *, ready: bool) -> None:
        """A flatten is due from now on; it starts once the session is ready."""
        if self.run is not None:
            self._log.warning(
                LogCode.FLATTEN_RECURSION,
                "a flatten is already running: not starting another",
                reason=reason,
            )
            return
        self.run = FlattenRun(reason=reason)
        if not ready:
            self._log.warning(
                LogCode.FLATTEN_DUE,
                "flatten due: it waits for the broker session to be up and reconciled",
                reason=reason,
            )

    def drive(self, *, ready: bool, now: datetime | None, submit: Submit) -> list[Command]:
        """After every event while a flatten is due: move it on as far as it can go."""
        run = self.run
        assert run is not None  # the Engine asks only while one is due
        if run.phase is FlattenPhase.ORDERS:
            return self._follow(run, ready=ready, now=now, submit=submit)
        if run.phase is FlattenPhase.WHAT_IF:
            timeout = self._config.what_if_timeout
            if now is None or run.asked_at is None or now - run.asked_at < timeout:
                return []
            if run.what_ifs >= MAX_WHAT_IF_ATTEMPTS:
                self._abort(run, "no what-if answer in time", f"{run.what_ifs} attempts")
                return []
            run.phase = FlattenPhase.DUE  # ask again
        return self._ask(run, now) if ready else []

    def _ask(self, run: FlattenRun, now: datetime | None) -> list[Command]:
        orders = flatten_orders(self._book.positions, self._book.instruments, run.reason)
        if not orders:  # flat already: nothing to check at the broker, only cancels
            commands = self._cancel_working()
            self._finish(run)
            return commands
        self._seq += 1
        run.phase = FlattenPhase.WHAT_IF
        run.request_id = self._seq
        run.orders = orders
        run.asked_at = now
        run.what_ifs += 1
        self._log.info(
            LogCode.FLATTEN_STARTED,
            "flatten-all: what-if margin check first",
            reason=run.reason,
            orders=len(orders),
            attempt=run.what_ifs,
        )
        return [RequestWhatIf(request_id=self._seq, account=self._config.account, orders=orders)]

    def on_what_if(self, event: WhatIfResult, submit: Submit) -> list[Command]:
        run = self.run
        if (
            run is None
            or run.phase is not FlattenPhase.WHAT_IF
            or event.request_id != run.request_id
        ):
            self._log.info(
                LogCode.EVENT_REJECTED,
                "what-if answer for no pending flatten",
                request_id=event.request_id,
            )
            return []
        if not event.margin_ok:
            self._abort(run, "what-if says it would violate margin", event.detail)
            return []
        run.phase = FlattenPhase.ORDERS
        self._book.follow_flatten(True)
        commands = self._cancel_working()
        for number, request in enumerate(run.orders, start=1):
            oms_id = f"flatten-{run.request_id}-{number}"
            run.oms_ids.append(oms_id)
            run.open.add(oms_id)
            run.places[oms_id] = 1
            commands += submit(SubmitOrder(oms_id=oms_id, request=request))
        # orders the desk could not send stay NEW: noted like any other move
        for oms_id in run.oms_ids:
            self._note(run, self._book.orders[oms_id])
        return commands

    def connection_lost(self) -> None:
        """A what-if asked on a dead session is never answered: due again, sending nothing."""
        run = self.run
        if run is not None and run.phase is FlattenPhase.WHAT_IF:
            run.phase = FlattenPhase.DUE
            self._log.warning(
                LogCode.FLATTEN_DUE,
                "connection lost before the what-if answer: the flatten waits for the session",
                reason=run.reason,
            )

    # --- following the orders ------------------------------------------------------------------

    def _follow(
        self, run: FlattenRun, *, ready: bool, now: datetime | None, submit: Submit
    ) -> list[Command]:
        for record in self._book.drain_flatten_moves():
            if record.oms_id in run.places:
                self._note(run, record)
        commands: list[Command] = []
        if run.unplaced and ready:
            commands = self._place_again(run, submit)
        if run.open or run.unplaced:
            return commands  # unplaced ones wait for a ready session to go again
        if run.unfilled:
            # the broker said Filled; the position moves only with the executions
            since = run.fills_since = run.fills_since or now
            if now is None or since is None or now - since < self._config.flatten_fill_wait:
                return commands
        self._finish(run)
        return commands

    def _note(self, run: FlattenRun, record: OrderRecord) -> None:
        """Where one flatten order stands now."""
        oms_id = record.oms_id
        status = record.status
        if status is Status.REJECTED and oms_id not in run.recursion_logged:
            run.recursion_logged.add(oms_id)
            self._log.warning(
                LogCode.FLATTEN_RECURSION,
                "flatten order rejected: it never triggers another flatten",
                oms_id=oms_id,
                reason=run.reason,
            )
        run.open.discard(oms_id)
        run.unplaced.discard(oms_id)
        run.unfilled.discard(oms_id)
        if status is Status.NEW and not record.pending_reconcile:
            run.unplaced.add(oms_id)
        elif status is Status.FILLED and record.filled < record.quantity:
            run.unfilled.add(oms_id)
        elif not status.is_terminal:
            run.open.add(oms_id)

    def _place_again(self, run: FlattenRun, submit: Submit) -> list[Command]:
        commands: list[Command] = []
        for oms_id in sorted(run.unplaced):
            run.unplaced.discard(oms_id)
            if run.places[oms_id] >= MAX_PLACE_ATTEMPTS:
                run.given_up.add(oms_id)  # reported as not placed
                continue
            run.places[oms_id] += 1
            record = self._book.orders[oms_id]
            self._log.warning(
                LogCode.FLATTEN_DUE,
                "flatten order was not placed: sending it again",
                oms_id=oms_id,
                reason=run.reason,
                attempt=run.places[oms_id],
            )
            commands += submit(SubmitOrder(oms_id=oms_id, request=record.request))
            self._note(run, record)
        return commands

    # --- ending ----------------------------------------------------------------------------------

    def _cancel_working(self) -> list[Command]:
        commands: list[Command] = []
        for record in list(self._book.orders.values()):
            if record.status.is_live and not record.is_flatten and record.order_id is not None:
                commands += self._desk.cancel(record)
        return commands

    def _abort(self, run: FlattenRun, why: str, detail: str) -> None:
        self.run = None
        exposure = describe_exposure(self._book.positions, self._book.instruments)
        self.last = FlattenReport(
            reason=run.reason, orders=(), failures=(), exposure_left=exposure, aborted=True
        )
        self._log.alert(
            LogCode.FLATTEN_ABORTED,
            f"flatten aborted before sending: {why}",
            reason=run.reason,
            detail=detail,
            exposure=", ".join(exposure),
        )

    def _finish(self, run: FlattenRun) -> None:
        self.run = None
        self._book.follow_flatten(False)
        failures = tuple(
            _failure(oms_id, self._book.orders[oms_id], oms_id in run.given_up)
            for oms_id in run.oms_ids
            if oms_id in run.given_up or not _done(self._book.orders[oms_id])
        )
        exposure = describe_exposure(self._book.positions, self._book.instruments)
        report = FlattenReport(
            reason=run.reason, orders=tuple(run.oms_ids), failures=failures, exposure_left=exposure
        )
        self.last = report
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

    # --- health ----------------------------------------------------------------------------------

    def check(self) -> HealthCheck:
        """Unhealthy while a flatten is due, and after a failed one until the book is flat."""
        run = self.run
        if run is not None:
            return HealthCheck(
                name="flatten",
                ok=False,
                reason=f"flatten pending: {run.reason} ({run.phase.value.lower()})",
            )
        last = self.last
        if last is None or last.complete or self._book.is_flat():
            return HealthCheck(name="flatten", ok=True)
        what = "aborted" if last.aborted else "; ".join(last.failures) or "exposure left"
        return HealthCheck(
            name="flatten",
            ok=False,
            reason=f"flatten failed ({last.reason}): {what}; {', '.join(last.exposure_left)}",
        )


def _done(record: OrderRecord) -> bool:
    return record.status is Status.FILLED and record.filled >= record.quantity


def _failure(oms_id: str, record: OrderRecord, given_up: bool) -> str:
    if given_up:
        return f"{oms_id}: not placed"
    if record.status is Status.FILLED:
        return f"{oms_id}: FILLED, executions missing ({record.filled} of {record.quantity})"
    return f"{oms_id}: {record.status.value}"
