"""Answers to the connector's requests, gathered into the engine's snapshot events.

One tracker for both fronts: the IB connector's WrapperTap (a real client library) and the
simulator's SimConnector each translate a broker message into an engine report first,
then hand it here. Sans-IO and library-free: reports in, events out through `emit`.

What it owns, per request kind:
- open orders: openOrder rows up to openOrderEnd, each paired with the orderStatus that
  follows it (by orderId and permId, so pairing costs the same for 10 or 10,000 rows);
- completed orders up to completedOrdersEnd; positions up to positionEnd;
- executions per request id up to execDetailsEnd, with the commission reports of those
  executions (matched by execId, since a commission carries no request id);
- contract details per request id (the instrument asked about, to name a renamed one);
- what-if checks: one answer per order of the check, then one WhatIfResult.
Requests of one kind are answered in the order they were sent (TWS answers them so);
outside a request each report is delivered alone. `reset()` forgets every pending
request: a new session never answers the old one's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from ibguard.engine.connector.translate import Margin, what_if_result
from ibguard.engine.events import (
    BrokerEvent,
    CommissionReport,
    CompletedOrdersSnapshot,
    ContractDetails,
    ExecutionReport,
    ExecutionsSnapshot,
    OpenOrderReport,
    OpenOrdersSnapshot,
    OrderStatusReport,
    PositionReport,
    PositionsSnapshot,
    WhatIfResult,
)
from ibguard.engine.model import Instrument

__all__ = ["Answers", "Emit"]

Emit = Callable[[BrokerEvent], None]


@dataclass
class _OpenOrders:
    rows: list[OpenOrderReport] = field(default_factory=list)
    waiting_status: dict[tuple[int, int], int] = field(default_factory=dict)  # -> row


@dataclass
class _Executions:
    executions: list[ExecutionReport] = field(default_factory=list)
    commissions: list[CommissionReport] = field(default_factory=list)


@dataclass
class _WhatIf:
    request_id: int
    waiting: set[int]
    answers: list[Margin] = field(default_factory=list)


class Answers:
    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._open: deque[_OpenOrders] = deque()
        self._completed: deque[list[OpenOrderReport]] = deque()
        self._executions: dict[int, _Executions] = {}
        self._exec_request: dict[str, int] = {}  # execId -> the request collecting it
        self._positions: deque[list[PositionReport]] = deque()
        self._what_if: dict[int, _WhatIf] = {}  # by the what-if order's id
        self._details: dict[int, Instrument] = {}

    def reset(self) -> None:
        """A new session: answers to the old one's requests never come."""
        self._open.clear()
        self._completed.clear()
        self._executions.clear()
        self._exec_request.clear()
        self._positions.clear()
        self._what_if.clear()
        self._details.clear()

    # --- requests sent ---------------------------------------------------------------------

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

    def expect_what_if(self, request_id: int, order_ids: Sequence[int]) -> None:
        pending = _WhatIf(request_id=request_id, waiting=set(order_ids))
        for order_id in order_ids:
            self._what_if[order_id] = pending
        if not order_ids:  # nothing to check: within margin
            self._emit(WhatIfResult(request_id=request_id, margin_ok=True))

    # --- orders ----------------------------------------------------------------------------

    def open_order(self, report: OpenOrderReport) -> None:
        if not self._open:
            self._emit(report)
            return
        pending = self._open[0]
        pending.waiting_status[(report.order_id, report.perm_id)] = len(pending.rows)
        pending.rows.append(report)

    def order_status(self, report: OrderStatusReport) -> None:
        """The status that follows a collected openOrder completes its row; any other
        status is delivered alone."""
        if self._open:
            pending = self._open[0]
            row = pending.waiting_status.pop((report.order_id, report.perm_id), None)
            if row is not None:
                pending.rows[row] = replace(
                    pending.rows[row],
                    status=report.status,
                    filled=report.filled,
                    remaining=report.remaining,
                )
                return
        self._emit(report)

    def open_orders_end(self) -> None:
        rows = self._open.popleft().rows if self._open else []
        self._emit(OpenOrdersSnapshot(orders=tuple(rows)))

    def completed_order(self, report: OpenOrderReport) -> None:
        if self._completed:  # outside a request nobody asked: the clients drop it too
            self._completed[0].append(report)

    def completed_orders_end(self) -> None:
        done = self._completed.popleft() if self._completed else []
        self._emit(CompletedOrdersSnapshot(orders=tuple(done)))

    # --- executions ------------------------------------------------------------------------

    def execution(self, req_id: int, report: ExecutionReport) -> None:
        """`req_id` -1 is a live execution; any other answers a request of ours."""
        pending = self._executions.get(req_id) if req_id != -1 else None
        if pending is None:
            self._emit(report)
            return
        pending.executions.append(report)
        self._exec_request[report.exec_id] = req_id

    def commission(self, report: CommissionReport) -> None:
        req_id = self._exec_request.pop(report.exec_id, None)
        pending = self._executions.get(req_id) if req_id is not None else None
        if pending is None:
            self._emit(report)
        else:
            pending.commissions.append(report)

    def executions_end(self, req_id: int) -> None:
        pending = self._executions.pop(req_id, None) or _Executions()
        for execution in pending.executions:
            self._exec_request.pop(execution.exec_id, None)
        self._emit(
            ExecutionsSnapshot(
                executions=tuple(pending.executions), commissions=tuple(pending.commissions)
            )
        )

    # --- positions, contracts --------------------------------------------------------------

    def position(self, report: PositionReport) -> None:
        if self._positions:
            self._positions[0].append(report)
        else:
            self._emit(report)

    def positions_end(self) -> None:
        lines = self._positions.popleft() if self._positions else []
        self._emit(PositionsSnapshot(positions=tuple(lines)))

    def contract_details(self, req_id: int, instrument: Instrument) -> None:
        asked = self._details.pop(req_id, None)
        previous = asked.symbol if asked is not None and asked.symbol != instrument.symbol else None
        self._emit(ContractDetails(instrument=instrument, previous_symbol=previous))

    def contract_details_end(self, req_id: int) -> None:
        self._details.pop(req_id, None)

    # --- what-if ---------------------------------------------------------------------------

    def is_what_if(self, order_id: int) -> bool:
        return order_id in self._what_if

    def what_if_answer(self, order_id: int, margin: Margin) -> bool:
        """One order's answer; False when no check waits for `order_id`."""
        pending = self._what_if.pop(order_id, None)
        if pending is None:
            return False
        pending.answers.append(margin)
        pending.waiting.discard(order_id)
        if not pending.waiting:
            self._emit(what_if_result(pending.request_id, pending.answers))
        return True
