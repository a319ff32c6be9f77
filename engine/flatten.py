"""Flatten-all as data: which orders close the book, and what a finished flatten reports.

A flatten asks the broker's what-if check first and sends nothing when margin says no
(FAIL-07). Its orders carry `flatten_reason`, so a rejected flatten order can never start
another flatten (FAIL-03). When every flatten order is terminal, one report names each
failure and the exposure left (FAIL-01, FAIL-02).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import final

from ibguard.engine.book import Book
from ibguard.engine.commands import Command, RequestWhatIf
from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.desk import OrderDesk
from ibguard.engine.events import SubmitOrder, WhatIfResult
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Instrument, OrderRequest, OrderType, Side, Status

__all__ = ["FlattenReport", "FlattenRun", "Flattener", "describe_exposure", "flatten_orders"]


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


@dataclass(slots=True)
class FlattenRun:
    reason: str
    request_id: int
    orders: tuple[OrderRequest, ...]
    asked_at: datetime | None  # broker time of the what-if request
    waiting: bool = True  # for the what-if answer
    oms_ids: list[str] = field(default_factory=list)
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
    """Runs one flatten at a time: what-if, then cancels and closing orders, then a report.

    Orders go out through `submit` (the Engine's own submit path, so halts, throttling and
    ids apply to flatten orders like to any other).
    """

    def __init__(self, config: EngineConfig, book: Book, log: DecisionLog, desk: OrderDesk) -> None:
        self._config = config
        self._book = book
        self._log = log
        self._desk = desk
        self._run: FlattenRun | None = None
        self._seq = 0
        self.last: FlattenReport | None = None

    def start(self, reason: str, now: datetime | None) -> list[Command]:
        if self._run is not None:
            self._log.warning(
                LogCode.FLATTEN_RECURSION,
                "a flatten is already running: not starting another",
                reason=reason,
            )
            return []
        orders = flatten_orders(self._book.positions, self._book.instruments, reason)
        self._seq += 1
        run = FlattenRun(reason=reason, request_id=self._seq, orders=orders, asked_at=now)
        if not orders:  # flat already: nothing to check at the broker, only cancels
            commands = self._cancel_working()
            self._finish(run)
            return commands
        self._run = run
        self._log.info(
            LogCode.FLATTEN_STARTED,
            "flatten-all: what-if margin check first",
            reason=reason,
            orders=len(orders),
        )
        return [RequestWhatIf(request_id=self._seq, account=self._config.account, orders=orders)]

    def on_what_if(self, event: WhatIfResult, submit: Submit) -> list[Command]:
        run = self._run
        if run is None or event.request_id != run.request_id:
            self._log.info(
                LogCode.EVENT_REJECTED,
                "what-if answer for no pending flatten",
                request_id=event.request_id,
            )
            return []
        if not event.margin_ok:
            self._abort(run, "what-if says it would violate margin", event.detail)
            return []
        run.waiting = False
        commands = self._cancel_working()
        for number, request in enumerate(run.orders, start=1):
            oms_id = f"flatten-{run.request_id}-{number}"
            run.oms_ids.append(oms_id)
            commands += submit(SubmitOrder(oms_id=oms_id, request=request))
        return commands

    def expire(self, now: datetime, timeout: timedelta) -> None:
        """No what-if answer in time (it was lost, or the broker is stuck): abort."""
        run = self._run
        if run is None or not run.waiting or run.asked_at is None:
            return
        if now - run.asked_at >= timeout:
            self._abort(run, "no what-if answer in time", f"asked {run.asked_at.isoformat()}")

    def connection_lost(self) -> None:
        """A what-if asked on a dead session is never answered: abort, sending nothing."""
        run = self._run
        if run is not None and run.waiting:
            self._abort(run, "connection lost before the what-if answer", "")

    def _abort(self, run: FlattenRun, why: str, detail: str) -> None:
        self._run = None
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

    def _cancel_working(self) -> list[Command]:
        commands: list[Command] = []
        for record in list(self._book.orders.values()):
            if record.status.is_live and not record.is_flatten and record.order_id is not None:
                commands += self._desk.cancel(record)
        return commands

    def progress(self) -> None:
        """After every event: note rejected flatten orders, report when all are done."""
        run = self._run
        if run is None or run.waiting:
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
            self._finish(run)

    def _finish(self, run: FlattenRun) -> None:
        self._run = None
        failures = tuple(
            f"{oms_id}: {record.status.value}"
            for oms_id in run.oms_ids
            if (record := self._book.orders[oms_id]).status is not Status.FILLED
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
