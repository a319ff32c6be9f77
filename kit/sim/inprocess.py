"""The in-process connector: `BrokerPort` over one SimBroker API session.

Owns turning engine commands into session requests and session messages into engine
events; it never touches engine state (BOUNDARY-01). Answers to requests are collected
until their end message and delivered as one snapshot event (openOrders with their
orderStatus; executions with their commissions); everything outside a request is
delivered as it comes (openOrder -> OpenOrderReport, orderStatus -> OrderStatusReport...).

Delivery is synchronous: events reach `on_event` while `send` (or a SimBroker control) runs.
While disconnected, a command never reaches the broker: it is recorded in `refused` and
answered with `BrokerError(code=504, "Not connected")` (ib_async raises ConnectionError
instead; an event keeps the engine's core free of exceptions from I/O).
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from dataclasses import dataclass, field

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
from ibguard.engine.events import (
    BrokerError,
    BrokerEvent,
    CommissionReport,
    CompletedOrdersSnapshot,
    ConnectionLost,
    ConnectionRestored,
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
from ibguard.engine.ports import BrokerPort, EventHandler
from ibguard.errors import BrokerProtocolError
from ibguard.kit.sim import messages as ib
from ibguard.kit.sim import translate
from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.session import ApiSession

__all__ = ["NOT_CONNECTED", "SimConnector"]

log = logging.getLogger(__name__)

NOT_CONNECTED = 504
_WHAT_IF_FIRST_ID = 1 << 30  # what-if checks are not orders; keep their ids apart


class _OpenOrdersAnswer:
    """openOrders collected up to openOrderEnd, each paired with the orderStatus that
    follows it; indexed so pairing costs the same with 10 or 10,000 open orders."""

    def __init__(self) -> None:
        self.rows: list[tuple[ib.OpenOrder, ib.OrderStatus | None]] = []
        self._waiting: dict[tuple[int, int], int] = {}

    def add(self, open_order: ib.OpenOrder) -> None:
        self._waiting[(open_order.order.permId, open_order.orderId)] = len(self.rows)
        self.rows.append((open_order, None))

    def pair(self, status: ib.OrderStatus) -> bool:
        index = self._waiting.pop((status.permId, status.orderId), None)
        if index is None:
            return False
        self.rows[index] = (self.rows[index][0], status)
        return True


@dataclass
class _WhatIf:
    request_id: int
    waiting: set[int]
    answers: list[translate.Margin] = field(default_factory=list)


class SimConnector(BrokerPort):
    def __init__(self, broker: SimBroker, client_id: int, *, all_open_orders: bool = True) -> None:
        self.broker = broker
        self.client_id = client_id
        self.all_open_orders = all_open_orders
        self.refused: list[Command] = []
        self._on_event: EventHandler | None = None
        self._session: ApiSession | None = None
        self._req_ids = itertools.count(9000)
        self._what_if_ids = itertools.count(_WHAT_IF_FIRST_ID)
        self._open: deque[_OpenOrdersAnswer] = deque()
        self._completed: deque[list[OpenOrderReport]] = deque()
        self._executions: dict[int, tuple[list[ExecutionReport], list[CommissionReport]]] = {}
        self._commission_owner: dict[str, int] = {}  # execId -> executions request id
        self._positions: deque[list[PositionReport]] = deque()
        self._what_if: dict[int, _WhatIf] = {}
        self._details: dict[int, Instrument] = {}
        self._buffer: list[ib.Message] | None = None  # messages that arrive inside connect()

    # --- BrokerPort ---------------------------------------------------------------------

    def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        self._connect()

    def send(self, command: Command) -> None:
        session = self._session
        if session is None or not session.connected:
            self.refused.append(command)
            req_id = command.order_id if isinstance(command, PlaceOrder | CancelOrder) else -1
            self._emit(BrokerError(req_id=req_id, code=NOT_CONNECTED, message="Not connected"))
            return
        if isinstance(command, PlaceOrder):
            contract, order = translate.place_order_of(command)
            session.place_order(command.order_id, contract, order)
        elif isinstance(command, CancelOrder):
            session.cancel_order(command.order_id)
        elif isinstance(command, RequestOpenOrders):
            self._open.append(_OpenOrdersAnswer())
            if self.all_open_orders:
                session.req_all_open_orders()
            else:
                session.req_open_orders()
        elif isinstance(command, RequestCompletedOrders):
            self._completed.append([])
            session.req_completed_orders(api_only=False)
        elif isinstance(command, RequestExecutions):
            req_id = next(self._req_ids)
            self._executions[req_id] = ([], [])
            session.req_executions(req_id)
        elif isinstance(command, RequestPositions):
            self._positions.append([])
            session.req_positions()
        elif isinstance(command, RequestServerTime):
            session.req_current_time()
        elif isinstance(command, RequestWhatIf):
            self._send_what_if(session, command)
        elif isinstance(command, RequestContractDetails):
            self.request_contract_details(command.instrument)

    # --- beyond the port: connection control and contract lookups ------------------------

    @property
    def connected(self) -> bool:
        return self._session is not None and self._session.connected

    def reconnect(self) -> None:
        """Open a new session with the same clientId; on success the startup messages
        (managedAccounts, nextValidId) come first, then ConnectionRestored(data_lost=True)."""
        self._connect()

    def disconnect(self) -> None:
        if self._session is not None and self._session.connected:
            self._session.disconnect()

    def request_contract_details(self, instrument: Instrument) -> None:
        """Ask for the broker's current identity of `instrument`; the answer is a
        ContractDetails event whose `previous_symbol` names a changed symbol (EDGE-02)."""
        if self._session is None or not self._session.connected:
            self._emit(BrokerError(req_id=-1, code=NOT_CONNECTED, message="Not connected"))
            return
        req_id = next(self._req_ids)
        self._details[req_id] = instrument
        self._session.req_contract_details(req_id, translate.contract_of(instrument))

    # --- connection ---------------------------------------------------------------------

    def _connect(self) -> None:
        # Every successful connect ends with ConnectionRestored, the first one too: like
        # a real client's connect(), it completes after managedAccounts and nextValidId,
        # and a fresh session knows nothing of our orders (data_lost), so the engine
        # reconciles.
        self._reset_requests()
        early: list[ib.Message] = []
        self._buffer = early
        session = self.broker.connect(self.client_id, self._on_message)
        self._buffer = None
        if session.connected:
            self._session = session
        for message in early:
            if session.connected or not isinstance(message, ib.Disconnected):
                self._translate_safely(message)
        if session.connected:
            self._emit(ConnectionRestored(data_lost=True, client_id=self.client_id))

    def _reset_requests(self) -> None:
        self._open.clear()
        self._completed.clear()
        self._executions.clear()
        self._commission_owner.clear()
        self._positions.clear()
        self._what_if.clear()
        self._details.clear()

    def _send_what_if(self, session: ApiSession, command: RequestWhatIf) -> None:
        ids = [next(self._what_if_ids) for _ in command.orders]
        pending = _WhatIf(request_id=command.request_id, waiting=set(ids))
        for order_id in ids:
            self._what_if[order_id] = pending
        if not ids:
            self._emit(WhatIfResult(request_id=command.request_id, margin_ok=True))
        for order_id, request in zip(ids, command.orders, strict=True):
            order = translate.order_of(request, account=command.account, what_if=True)
            session.place_order(order_id, translate.contract_of(request.instrument), order)

    # --- messages -> events -------------------------------------------------------------

    def _on_message(self, message: ib.Message) -> None:
        if self._buffer is not None:
            self._buffer.append(message)
        else:
            self._translate_safely(message)

    def _translate_safely(self, message: ib.Message) -> None:
        # a broker message the engine's types cannot hold (say a manual STP order) is
        # logged with its code and skipped, as the IB connector does; it never reaches
        # the engine half-built and never raises into the broker
        try:
            self._translate(message)
        except BrokerProtocolError as error:
            log.warning(
                "broker message not translatable: %s",
                error,
                extra={"code": LogCode.EVENT_REJECTED, "message_type": type(message).__name__},
            )

    def _translate(self, m: ib.Message) -> None:
        if isinstance(m, ib.OpenOrder):
            self._on_open_order(m)
        elif isinstance(m, ib.OrderStatus):
            self._on_order_status(m)
        elif isinstance(m, ib.OpenOrderEnd):
            self._end_open_orders()
        elif isinstance(m, ib.ExecDetails):
            self._on_exec_details(m)
        elif isinstance(m, ib.CommissionReport):
            self._on_commission(m)
        elif isinstance(m, ib.ExecDetailsEnd):
            execs, commissions = self._executions.pop(m.reqId, ([], []))
            self._emit(ExecutionsSnapshot(executions=tuple(execs), commissions=tuple(commissions)))
        elif isinstance(m, ib.CompletedOrder):
            report = translate.open_order_report(m.contract, m.order, m.orderState)
            if self._completed:
                self._completed[0].append(report)
        elif isinstance(m, ib.CompletedOrdersEnd):
            done = self._completed.popleft() if self._completed else []
            self._emit(CompletedOrdersSnapshot(orders=tuple(done)))
        elif isinstance(m, ib.Position):
            report_p = translate.position_report(m)
            if self._positions:
                self._positions[0].append(report_p)
            else:
                self._emit(report_p)
        elif isinstance(m, ib.PositionEnd):
            lines = self._positions.popleft() if self._positions else []
            self._emit(PositionsSnapshot(positions=tuple(lines)))
        elif isinstance(m, ib.Error):
            self._emit(translate.broker_error(m))
        elif isinstance(m, ib.NextValidId):
            self._emit(NextValidId(order_id=m.orderId))
        elif isinstance(m, ib.ManagedAccounts):
            accounts = tuple(a for a in m.accountsList.split(",") if a)
            self._emit(ManagedAccounts(accounts=accounts))
        elif isinstance(m, ib.CurrentTime):
            self._emit(ServerTime(broker_time=m.time, local_time=self.broker.clock.local_now()))
        elif isinstance(m, ib.ContractDetails):
            self._on_contract_details(m)
        elif isinstance(m, ib.Disconnected):
            self._session = None
            self._emit(ConnectionLost(reason=m.reason))
        # ContractDetailsEnd and AccountDownloadEnd carry nothing the engine uses

    def _on_open_order(self, m: ib.OpenOrder) -> None:
        if m.order.whatIf:
            self._on_what_if(m)
        elif self._open:
            self._open[0].add(m)
        else:
            self._emit(translate.open_order_report(m.contract, m.order, m.orderState))

    def _on_order_status(self, m: ib.OrderStatus) -> None:
        if self._open and self._open[0].pair(m):
            return
        self._emit(translate.order_status_report(m))

    def _end_open_orders(self) -> None:
        rows = self._open.popleft().rows if self._open else []
        reports = tuple(
            translate.open_order_report(oo.contract, oo.order, oo.orderState, status)
            for oo, status in rows
        )
        self._emit(OpenOrdersSnapshot(orders=reports))

    def _on_exec_details(self, m: ib.ExecDetails) -> None:
        report = translate.execution_report(m)
        pending = self._executions.get(m.reqId) if m.reqId != -1 else None
        if pending is None:
            self._emit(report)
        else:
            pending[0].append(report)
            self._commission_owner[report.exec_id] = m.reqId

    def _on_commission(self, m: ib.CommissionReport) -> None:
        report = translate.commission_report(m)
        owner = self._commission_owner.pop(m.execId, None)
        pending = self._executions.get(owner) if owner is not None else None
        if pending is None:
            self._emit(report)
        else:
            pending[1].append(report)

    def _on_what_if(self, m: ib.OpenOrder) -> None:
        pending = self._what_if.pop(m.orderId, None)
        if pending is None:
            log.warning("what-if answer for unknown orderId %s", m.orderId)
            return
        pending.answers.append(translate.margin_of(m.orderState))
        pending.waiting.discard(m.orderId)
        if pending.waiting:
            return
        self._emit(translate.what_if_result(pending.request_id, pending.answers))

    def _on_contract_details(self, m: ib.ContractDetails) -> None:
        asked = self._details.pop(m.reqId, None)
        instrument = translate.instrument_of(m.contract)
        previous = asked.symbol if asked is not None and asked.symbol != instrument.symbol else None
        self._emit(ContractDetails(instrument=instrument, previous_symbol=previous))

    def _emit(self, event: BrokerEvent) -> None:
        if self._on_event is None:
            log.debug("event before start() dropped: %r", event)
            return
        self._on_event(event)
