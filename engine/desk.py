"""The order desk: submits and cancels, orderId allocation, and the broker's answers to them.

It owns the decisions about one order at a time that end in a command or an error code:
- orderIds come from the broker's nextValidId; IB's "unset" 2^31-1 is never sent, the
  allocation wraps to 1 (EDGE-03), and a reused orderId re-points the provisional alias
  while the older order stays keyed by its permId (FAIL-05);
- a cancel is sent only for an order that can still trade (LIFE-01);
- error codes are broker truth (202 cancelled, 201/203 rejected, 103 not placed); a
  refused cancel is resolved from the state the broker reports, never assumed cancelled.
Whether to send at all (halts, connection, throttle) is the Engine's call.
"""

from __future__ import annotations

from ibguard.engine.book import Book
from ibguard.engine.broker_errors import ErrorClass, reported_state
from ibguard.engine.commands import CancelOrder, Command, PlaceOrder
from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.events import BrokerError, NextValidId, SubmitOrder
from ibguard.engine.identity import is_set, make_order_ref
from ibguard.engine.lifecycle import Kind
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Instrument, Status
from ibguard.engine.orders import OrderRecord

__all__ = ["OrderDesk"]

_GONE_STATES = ("Cancelled", "ApiCancelled", "Inactive")


class OrderDesk:
    def __init__(self, config: EngineConfig, book: Book, log: DecisionLog) -> None:
        self._config = config
        self._book = book
        self._log = log
        self.next_order_id: int | None = None

    def next_valid_id(self, event: NextValidId) -> None:
        self.next_order_id = event.order_id

    def refuse(self, oms_id: str, reason: str) -> list[Command]:
        self._log.warning(LogCode.ORDER_REFUSED, reason, oms_id=oms_id, reason=reason)
        return []

    # --- submit --------------------------------------------------------------------------------

    def submit(self, event: SubmitOrder, *, connected: bool, epoch: int) -> list[Command]:
        oms_id = event.oms_id
        record = self._book.orders.get(oms_id)
        if record is not None:
            if record.status is not Status.NEW:
                return self.refuse(oms_id, f"oms_id already used ({record.status.value})")
            if record.pending_reconcile:
                return self.refuse(oms_id, "its last submit is unresolved until reconcile")
            if record.acknowledged or record.perm_id is not None:
                return self.refuse(oms_id, "the broker has an order under this oms_id")
            self._book.renew(record, event.request)
        else:
            record = self._book.create(oms_id, event.request)
        if not connected or self.next_order_id is None:
            return self.refuse(oms_id, "not connected: order kept NEW, submit again later")
        order_id = self._allocate()
        replaced = self._book.sent(record, order_id, epoch)
        if replaced is not None:
            self._log.info(
                LogCode.ORDER_ID_REUSE,
                "orderId reused by the broker: the older order stays keyed by its permId",
                order_id=order_id,
                oms_id=oms_id,
                old_oms_id=replaced,
            )
        self._log.info(LogCode.ORDER_SUBMITTED, "placeOrder sent", oms_id=oms_id, order_id=order_id)
        return [
            PlaceOrder(
                oms_id=oms_id,
                order_id=order_id,
                order_ref=make_order_ref(self._config.namespace, oms_id),
                account=self._config.account,
                request=record.request,
            )
        ]

    def _allocate(self) -> int:
        assert self.next_order_id is not None  # checked by submit
        order_id = self.next_order_id
        if not is_set(order_id):
            self._log.warning(
                LogCode.ORDER_ID_WRAP,
                "orderId reached IB's limit: wrapped to 1; orders stay keyed by permId",
                order_id=order_id,
            )
            order_id = 1
        self.next_order_id = order_id + 1
        return order_id

    def never_sent(self, command: PlaceOrder) -> None:
        """A placeOrder dropped before it left (throttle queue at a disconnect)."""
        record = self._book.orders[command.oms_id]
        self._book.move(record, Kind.NOT_PLACED)
        self._book.forget_alias(record)

    def cancel_not_sent(self, command: CancelOrder) -> None:
        """A cancelOrder dropped before it left: the order is as live as it was."""
        record = self._book.orders[command.oms_id]
        if record.status is not Status.CANCEL_PENDING:
            return  # the broker settled it meanwhile (filled, cancelled, rejected)
        kind = Kind.CANCEL_REFUSED_PARTIAL if record.filled else Kind.CANCEL_REFUSED_UNFILLED
        self._book.move(record, kind)
        self._log.warning(
            LogCode.CANCEL_REFUSED,
            "cancel never sent (connection lost): the order is live, cancel again",
            oms_id=record.oms_id,
        )

    def connection_lost(self) -> bool:
        """Submits with no broker answer before a disconnect: NEW until reconcile says
        whether the broker got them (CONN-01). True when there were any."""
        in_doubt = False
        for record in self._book.orders.values():
            if record.status is Status.SUBMITTED and not record.acknowledged:
                in_doubt = True
                self._book.move(record, Kind.NOT_PLACED)
                self._book.await_reconcile(record)
                self._log.warning(
                    LogCode.SUBMIT_PENDING,
                    "placeOrder sent, no broker answer before the disconnect: NEW until reconcile",
                    oms_id=record.oms_id,
                    order_id=record.order_id,
                )
        return in_doubt

    def contract_changed(self, old: Instrument, new: Instrument) -> list[Command]:
        """EDGE-02: the new identity takes the position; working orders on the old one go."""
        self._log.alert(
            LogCode.CONTRACT_CHANGED,
            "contract changed: cancelling working orders on the old contract",
            old_symbol=old.symbol,
            new_symbol=new.symbol,
            old_con_id=old.con_id,
            new_con_id=new.con_id,
        )
        self._book.rekey(old, new)
        commands: list[Command] = []
        old_key = old.key
        for record in list(self._book.orders.values()):
            on_old = record.request.instrument.key == old_key
            if on_old and record.status.is_live and record.order_id is not None:
                commands += self.cancel(record)
        return commands

    # --- cancel --------------------------------------------------------------------------------

    def request_cancel(self, oms_id: str) -> list[Command]:
        record = self._book.orders.get(oms_id)
        if record is None:
            return self.refuse(oms_id, "cancel of an unknown oms_id")
        if record.status.is_terminal:
            self._log.info(
                LogCode.CANCEL_IGNORED,
                f"cancel not sent: order already {record.status.value}",
                oms_id=oms_id,
                status=record.status.value,
            )
            return []
        if record.status is Status.NEW and record.pending_reconcile:
            return self.refuse(oms_id, "cancel waits for reconcile: fate unknown")
        if record.status is not Status.NEW and record.order_id is None:
            return self.refuse(oms_id, "no orderId of this client to cancel it with")
        return self.cancel(record)

    def cancel(self, record: OrderRecord) -> list[Command]:
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

    # --- the broker's answers ------------------------------------------------------------------

    def order_error(self, record: OrderRecord, cls: ErrorClass, event: BrokerError) -> str | None:
        """Apply an error about one order. Returns a reason to reconcile, or None."""
        oms_id = record.oms_id
        ids: dict[str, object] = {"error_code": event.code, "text": event.message}
        if cls is ErrorClass.CANCELLED:
            self._book.move(record, Kind.CANCELED)  # total for every status
            self._log.info(LogCode.ORDER_CANCELED, "order canceled", oms_id=oms_id, **ids)
            return None
        if cls is ErrorClass.REJECTED:
            self._book.acknowledge(record)
            self._book.move(record, Kind.REJECT)  # total for every status
            self._log.warning(LogCode.ORDER_REJECTED, "order rejected", oms_id=oms_id, **ids)
            return None
        if cls is ErrorClass.DUPLICATE_ID:
            if not self._book.move(record, Kind.NOT_PLACED):
                return None  # a late 103 for an order the broker has: keep its ids
            self._book.forget_alias(record)
            assert self.next_order_id is not None  # we sent an order, so we had ids
            self.next_order_id = max(self.next_order_id, event.req_id + 1)
            self._log.warning(
                LogCode.ORDER_ID_DUPLICATE,
                "duplicate orderId: the order was not placed, stays NEW",
                oms_id=oms_id,
                **ids,
            )
            return None
        if cls is ErrorClass.CANNOT_CANCEL:
            return self._cancel_refused(record, reported_state(event.message), ids)
        self._log.warning(
            LogCode.BROKER_ERROR,
            "broker error on an order: asking the broker for its state",
            oms_id=oms_id,
            **ids,
        )
        self._book.await_reconcile(record)
        return f"error {event.code} on {oms_id}"

    def _cancel_refused(
        self, record: OrderRecord, state: str | None, ids: dict[str, object]
    ) -> str | None:
        oms_id = record.oms_id
        if record.status.is_terminal:
            self._log.info(
                LogCode.CANCEL_IGNORED,
                f"cancel refused; order stays {record.status.value}",
                oms_id=oms_id,
                **ids,
            )
            return None
        if state in _GONE_STATES:
            self._book.move(record, Kind.CANCELED)
            self._log.info(
                LogCode.CANCEL_REDUNDANT, "broker says already gone: CANCELED", oms_id=oms_id, **ids
            )
            return None
        if record.status is Status.CANCEL_PENDING:
            kind = Kind.CANCEL_REFUSED_PARTIAL if record.filled else Kind.CANCEL_REFUSED_UNFILLED
            self._book.move(record, kind)
        self._book.await_reconcile(record)
        self._log.warning(
            LogCode.CANCEL_REFUSED,
            "cancel refused: back to the live state until the broker says more",
            oms_id=oms_id,
            broker_state=state or "",
            **ids,
        )
        return f"cancel refused for {oms_id}"
