"""The in-process connector: `BrokerPort` over one SimBroker API session.

Owns turning engine commands into session requests and session messages into engine
events; it never touches engine state (BOUNDARY-01). Answers to requests are gathered
into snapshot events by the IB connector's own tracker (`engine/connector/answers.py`:
openOrders with their orderStatus, executions with their commissions, ...), so both
fronts answer alike; everything outside a request is delivered as it comes.

Delivery is synchronous: events reach `on_event` while `send` (or a SimBroker control) runs.
While disconnected, a command never reaches the broker: it is recorded in `refused` and
answered with `BrokerError(code=504, "Not connected")` (ib_async raises ConnectionError
instead; an event keeps the engine's core free of exceptions from I/O).
"""

from __future__ import annotations

import itertools
import logging

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
from ibguard.engine.connector.answers import Answers
from ibguard.engine.events import (
    BrokerError,
    BrokerEvent,
    ConnectionLost,
    ConnectionRestored,
    ManagedAccounts,
    NextValidId,
    ServerTime,
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
        self._answers = Answers(self._emit)
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
            self._answers.expect_open_orders()
            if self.all_open_orders:
                session.req_all_open_orders()
            else:
                session.req_open_orders()
        elif isinstance(command, RequestCompletedOrders):
            self._answers.expect_completed_orders()
            session.req_completed_orders(api_only=False)
        elif isinstance(command, RequestExecutions):
            req_id = next(self._req_ids)
            self._answers.expect_executions(req_id)
            session.req_executions(req_id)
        elif isinstance(command, RequestPositions):
            self._answers.expect_positions()
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
        self._answers.expect_contract_details(req_id, instrument)
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
        self._answers.reset()

    def _send_what_if(self, session: ApiSession, command: RequestWhatIf) -> None:
        ids = [next(self._what_if_ids) for _ in command.orders]
        self._answers.expect_what_if(command.request_id, ids)
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
        answers = self._answers
        if isinstance(m, ib.OpenOrder):
            self._on_open_order(m)
        elif isinstance(m, ib.OrderStatus):
            answers.order_status(translate.order_status_report(m))
        elif isinstance(m, ib.OpenOrderEnd):
            answers.open_orders_end()
        elif isinstance(m, ib.ExecDetails):
            answers.execution(m.reqId, translate.execution_report(m))
        elif isinstance(m, ib.CommissionReport):
            answers.commission(translate.commission_report(m))
        elif isinstance(m, ib.ExecDetailsEnd):
            answers.executions_end(m.reqId)
        elif isinstance(m, ib.CompletedOrder):
            answers.completed_order(translate.open_order_report(m.contract, m.order, m.orderState))
        elif isinstance(m, ib.CompletedOrdersEnd):
            answers.completed_orders_end()
        elif isinstance(m, ib.Position):
            answers.position(translate.position_report(m))
        elif isinstance(m, ib.PositionEnd):
            answers.positions_end()
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
            answers.contract_details(m.reqId, translate.instrument_of(m.contract))
        elif isinstance(m, ib.Disconnected):
            self._session = None
            self._emit(ConnectionLost(reason=m.reason))
        # ContractDetailsEnd and AccountDownloadEnd carry nothing the engine uses

    def _on_open_order(self, m: ib.OpenOrder) -> None:
        if not m.order.whatIf:
            self._answers.open_order(translate.open_order_report(m.contract, m.order, m.orderState))
        elif not self._answers.what_if_answer(m.orderId, translate.margin_of(m.orderState)):
            log.warning("what-if answer for unknown orderId %s", m.orderId)

    def _emit(self, event: BrokerEvent) -> None:
        if self._on_event is None:
            log.debug("event before start() dropped: %r", event)
            return
        self._on_event(event)
