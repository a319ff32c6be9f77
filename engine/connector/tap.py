"""The decoder's wrapper for every message the engine consumes: raw callbacks -> events.

The connector installs a `WrapperTap` as the broker library's `Decoder.wrapper`, so the
library's decoder calls these methods with the decoded fields; every other callback
(ticks, account values, ...) falls through to the library's own `Wrapper`. Why raw
callbacks instead of the library's `IB` events:
- cost per fill stays flat: ib_async's (and ib_insync's) own `orderStatus` handler formats
  the whole Trade, every fill and log entry so far, in an f-string on every status message
  (`self._logger.info(f"orderStatus: {trade}")`): no logger level guards it, and it goes
  quadratic on orders with many partial fills;
- the engine sees the broker's messages, not the client's reading of them: the clients
  dedupe executions, drop executions and commissions of orders they hold no Trade for
  (orphan fills after a restart), swallow repeated orderStatus, and mark orders Cancelled
  on errors (202, most unknown codes) that the engine must judge itself.

Answers to the connector's requests are collected until their end message and delivered
as one snapshot, exactly as the in-process connector does: openOrders (with the orderStatus
that follows each) up to openOrderEnd, completedOrders up to completedOrdersEnd, executions
and their commissions up to execDetailsEnd, positions up to positionEnd; outside a request
each message is delivered alone. A message that cannot be translated is logged with
`EVENT_REJECTED` and skipped; it never raises into the decoder or the engine.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from ibguard.engine.connector import translate as tr
from ibguard.engine.events import (
    BrokerEvent,
    CommissionReport,
    CompletedOrdersSnapshot,
    ContractDetails,
    ExecutionReport,
    ExecutionsSnapshot,
    ManagedAccounts,
    NextValidId,
    OpenOrderReport,
    OpenOrdersSnapshot,
    PositionReport,
    PositionsSnapshot,
    ServerTime,
    WhatIfResult,
)
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Instrument
from ibguard.engine.ports import Clock

__all__ = ["WrapperTap"]

log = logging.getLogger("ibguard.engine.connector")

Emit = Callable[[BrokerEvent], None]


@dataclass
class _OpenOrders:
    rows: list[OpenOrderReport] = field(default_factory=list)
    waiting_status: dict[tuple[int, int], int] = field(default_factory=dict)  # -> row index


@dataclass
class _Executions:
    executions: list[ExecutionReport] = field(default_factory=list)
    commissions: list[CommissionReport] = field(default_factory=list)


@dataclass
class _WhatIf:
    request_id: int
    waiting: set[int]
    answers: list[tr.Margin] = field(default_factory=list)


class WrapperTap:
    """Raw wrapper callbacks in, engine events out (through `emit`)."""

    def __init__(self, fallback: Any, emit: Emit, clock: Clock) -> None:
        self._fallback = fallback
        self._emit = emit
        self._clock = clock
        self._open: deque[_OpenOrders] = deque()
        self._completed: deque[list[OpenOrderReport]] = deque()
        self._executions: dict[int, _Executions] = {}
        self._exec_request: dict[str, int] = {}  # execId -> the request collecting it
        self._positions: deque[list[PositionReport]] = deque()
        self._what_if: dict[int, _WhatIf] = {}
        self._details: dict[int, Instrument] = {}

    def __getattr__(self, name: str) -> Any:
        # everything the engine does not consume stays the library's business
        return getattr(self._fallback, name)

    # --- requests the connector sent -----------------------------------------------------

    def reset(self) -> None:
        """A new session: answers to the old one's requests never come."""
        self._open.clear()
        self._completed.clear()
        self._executions.clear()
        self._exec_request.clear()
        self._positions.clear()
        self._what_if.clear()
        self._details.clear()

    def expect_open_orders(self) -> None:
        self._open.append(_OpenOrders())

    def expect_completed_orders(self) -> None:
        self._completed.append([])

    def expect_executions(self, req_id: int) -> None:
        self._executions[req_id] = _Executions()

    def expect_positions(self) -> None:
        self._positions.append([])

    def expect_contract_details(self, req_id: int, instrument: Instrument) -> None:
        self._details[req_id] = instrument

    def expect_what_if(self, request_id: int, order_ids: list[int]) -> None:
        pending = _WhatIf(request_id=request_id, waiting=set(order_ids))
        for order_id in order_ids:
            self._what_if[order_id] = pending
        if not order_ids:
            self._emit(WhatIfResult(request_id=request_id, margin_ok=True))

    # --- session -------------------------------------------------------------------------

    def nextValidId(self, reqId: int) -> None:
        self._emit(NextValidId(order_id=int(reqId)))

    def managedAccounts(self, accountsList: str) -> None:
        accounts = tuple(a for a in str(accountsList).split(",") if a)
        self._emit(ManagedAccounts(accounts=accounts))

    def currentTime(self, time: int) -> None:
        try:
            broker_time = datetime.fromtimestamp(int(time), timezone.utc)
        except (ValueError, OverflowError, OSError) as exc:
            return _rejected("currentTime", exc, value=time)
        self._emit(ServerTime(broker_time=broker_time, local_time=self._clock.now()))

    def error(
        self, reqId: int, errorCode: int, errorString: str, advancedOrderRejectJson: str = ""
    ) -> None:
        self._emit(tr.broker_error(reqId, errorCode, errorString))
        pending = self._what_if.get(reqId)
        if pending is not None:  # the what-if check itself failed: not within margin
            self._answer_what_if(
                reqId, tr.Margin(False, None, None, f"error {errorCode}: {errorString}")
            )
        self._details.pop(reqId, None)

    # --- orders --------------------------------------------------------------------------

    def openOrder(self, orderId: int, contract: Any, order: Any, orderState: Any) -> None:
        if getattr(order, "whatIf", False):
            try:
                margin = tr.margin_of(orderState)
            except Exception as exc:  # an unreadable answer is no proof of margin
                _rejected("openOrder (what-if)", exc, order_id=orderId)
                margin = tr.Margin(False, None, None, "unreadable what-if answer")
            self._answer_what_if(int(orderId), margin)
            return
        try:
            report = tr.open_order_report(contract, order, orderState)
        except Exception as exc:
            return _rejected("openOrder", exc, order_id=orderId)
        if self._open:
            pending = self._open[0]
            pending.waiting_status[(report.order_id, report.perm_id)] = len(pending.rows)
            pending.rows.append(report)
        else:
            self._emit(report)

    def orderStatus(  # noqa: PLR0917 - the library calls it positionally
        self,
        orderId: int,
        status: str,
        filled: Any,
        remaining: Any,
        avgFillPrice: Any,
        permId: int,
        parentId: int = 0,
        lastFillPrice: Any = 0.0,
        clientId: int = 0,
        whyHeld: str = "",
        mktCapPrice: Any = 0.0,
    ) -> None:
        raw = tr.RawStatus(
            int(orderId), status, filled, remaining, avgFillPrice, int(permId), int(clientId)
        )
        if self._open:
            pending = self._open[0]
            row = pending.waiting_status.pop((raw.order_id, raw.perm_id), None)
            if row is not None:
                try:
                    pending.rows[row] = replace(
                        pending.rows[row],
                        status=raw.status,
                        filled=tr.decimal_of("filled", raw.filled),
                        remaining=tr.decimal_of("remaining", raw.remaining),
                    )
                except Exception as exc:
                    _rejected("orderStatus", exc, order_id=orderId)
                return
        try:
            report = tr.order_status_report(raw)
        except Exception as exc:
            return _rejected("orderStatus", exc, order_id=orderId)
        self._emit(report)

    def openOrderEnd(self) -> None:
        rows = self._open.popleft().rows if self._open else []
        self._emit(OpenOrdersSnapshot(orders=tuple(rows)))

    def completedOrder(self, contract: Any, order: Any, orderState: Any) -> None:
        try:
            report = tr.open_order_report(contract, order, orderState)
        except Exception as exc:
            return _rejected("completedOrder", exc, perm_id=getattr(order, "permId", None))
        if self._completed:
            self._completed[0].append(report)
        # outside a request nobody asked: the clients only deliver completedOrder as answers

    def completedOrdersEnd(self) -> None:
        done = self._completed.popleft() if self._completed else []
        self._emit(CompletedOrdersSnapshot(orders=tuple(done)))

    # --- executions ----------------------------------------------------------------------

    def execDetails(self, reqId: int, contract: Any, execution: Any) -> None:
        try:
            report = tr.execution_report(contract, execution)
        except Exception as exc:
            return _rejected("execDetails", exc, exec_id=getattr(execution, "execId", None))
        # live executions carry reqId -1; anything else answers a request of ours
        pending = self._executions.get(int(reqId)) if reqId != -1 else None
        if pending is None:
            self._emit(report)
        else:
            pending.executions.append(report)
            self._exec_request[report.exec_id] = int(reqId)

    def execDetailsEnd(self, reqId: int) -> None:
        pending = self._executions.pop(int(reqId), None) or _Executions()
        for execution in pending.executions:
            self._exec_request.pop(execution.exec_id, None)
        self._emit(
            ExecutionsSnapshot(
                executions=tuple(pending.executions), commissions=tuple(pending.commissions)
            )
        )

    def commissionReport(self, commissionReport: Any) -> None:
        try:
            report = tr.commission_report(commissionReport)
        except Exception as exc:
            return _rejected(
                "commissionReport", exc, exec_id=getattr(commissionReport, "execId", None)
            )
        req_id = self._exec_request.get(report.exec_id)
        pending = self._executions.get(req_id) if req_id is not None else None
        if pending is None:
            self._emit(report)
        else:
            pending.commissions.append(report)

    # --- positions, contracts ------------------------------------------------------------

    def position(self, account: str, contract: Any, posSize: Any, avgCost: Any) -> None:
        try:
            report = tr.position_report(account, contract, posSize, avgCost)
        except Exception as exc:
            return _rejected("position", exc, account=account)
        if self._positions:
            self._positions[0].append(report)
        else:
            self._emit(report)

    def positionEnd(self) -> None:
        lines = self._positions.popleft() if self._positions else []
        self._emit(PositionsSnapshot(positions=tuple(lines)))

    def contractDetails(self, reqId: int, contractDetails: Any) -> None:
        asked = self._details.pop(int(reqId), None)
        try:
            instrument = tr.instrument_of(contractDetails.contract)
        except Exception as exc:
            return _rejected("contractDetails", exc, req_id=reqId)
        previous = asked.symbol if asked is not None and asked.symbol != instrument.symbol else None
        self._emit(ContractDetails(instrument=instrument, previous_symbol=previous))

    def contractDetailsEnd(self, reqId: int) -> None:
        self._details.pop(int(reqId), None)

    # --- what-if -------------------------------------------------------------------------

    def _answer_what_if(self, order_id: int, margin: tr.Margin) -> None:
        pending = self._what_if.pop(order_id, None)
        if pending is None:
            log.warning(
                "what-if answer for an unknown id",
                extra={"code": LogCode.EVENT_REJECTED, "order_id": order_id},
            )
            return
        pending.answers.append(margin)
        pending.waiting.discard(order_id)
        if not pending.waiting:
            self._emit(tr.what_if_result(pending.request_id, pending.answers))


def _rejected(kind: str, exc: Exception, **ids: object) -> None:
    log.error(
        "broker message the engine cannot take: %s",
        kind,
        extra={"code": LogCode.EVENT_REJECTED, "message_kind": kind, "error": repr(exc), **ids},
    )
