"""The book: orders, own positions and the broker facts applied to them.

The book turns each broker fact (openOrder, orderStatus, execDetails, commission) into at
most one move of one order and exactly one decision record. It knows what is ours (the
namespace in orderRef, or a permId we already hold) and keeps everything else out of the
strategy's orders and positions (SEC-01). It never talks to the broker: the Engine decides
what to send.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import final

from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.errors import IllegalTransition
from ibguard.engine.events import ExecutionReport, OpenOrderReport, OrderStatusReport
from ibguard.engine.fills import FillOutcome
from ibguard.engine.identity import OrderIndex, is_set, parse_order_ref
from ibguard.engine.lifecycle import Kind, advance, kind_of_broker_status
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Instrument, OrderRequest, OrderType, Status
from ibguard.engine.orders import OrderRecord

__all__ = ["Book", "Sighting"]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Sighting:
    """How a broker record related to the book: whose it is and which order it touched."""

    oms_id: str | None = None
    foreign: bool = False
    stolen: bool = False  # our clientId, not our order: another process is using our id


class Book:
    def __init__(self, config: EngineConfig, log: DecisionLog) -> None:
        self._config = config
        self._log = log
        self.orders: dict[str, OrderRecord] = {}
        self.index = OrderIndex()
        self.positions: dict[str, Decimal] = {}
        self.foreign_positions: dict[str, Decimal] = {}
        self.instruments: dict[str, Instrument] = {}
        self._keys_by_con_id: dict[int, set[str]] = {}
        self._keys_by_symbol: dict[str, set[str]] = {}
        self._foreign_exec_ids: set[str] = set()
        self._foreign_seen: set[int] = set()
        self._exec_owner: dict[str, str] = {}
        self._touched: list[str] = []
        self.now: datetime | None = None

    def drain_touched(self) -> list[str]:
        """oms_ids whose state moved since the last call (for the stale-order timer)."""
        touched, self._touched = self._touched, []
        return touched

    # --- lookups ---------------------------------------------------------------------------

    def ours(self, order_ref: str) -> str | None:
        return parse_order_ref(self._config.namespace, order_ref)

    def find(self, *, perm_id: int, order_ref: str, client_id: int, order_id: int) -> str | None:
        """permId first, then our orderRef, then the provisional alias (never reused)."""
        oms_id = self.index.by_perm(perm_id)
        if oms_id is not None:
            return oms_id
        oms_id = self.ours(order_ref)
        if oms_id is not None:
            return oms_id if oms_id in self.orders else None
        oms_id = self.index.by_alias(client_id, order_id)
        if oms_id is None:
            return None
        record = self.orders[oms_id]
        if perm_id and record.perm_id and record.perm_id != perm_id:
            self._log.info(
                LogCode.ORDER_ID_REUSE,
                "orderId belongs to an older order with another permId; not touching it",
                order_id=order_id,
                client_id=client_id,
                perm_id=perm_id,
                old_perm_id=record.perm_id,
                oms_id=oms_id,
            )
            return None
        return oms_id

    # --- moves -----------------------------------------------------------------------------

    def move(self, record: OrderRecord, kind: Kind) -> bool:
        try:
            record.status = advance(record.status, kind)
        except IllegalTransition as error:
            self._log.info(
                LogCode.ILLEGAL_TRANSITION,
                str(error),
                status=error.status,
                kind=error.kind,
                oms_id=record.oms_id,
            )
            return False
        record.updated_at = self.now or record.updated_at
        self._touched.append(record.oms_id)
        return True

    def adopt(self, oms_id: str, request: OrderRequest) -> OrderRecord:
        """A broker order of ours the book has no record of (recovery, orphan fill)."""
        record = OrderRecord(oms_id=oms_id, request=request, recovered=True, created_at=self.now)
        self.orders[oms_id] = record
        return record

    def bind(self, record: OrderRecord, *, perm_id: int, client_id: int, order_id: int) -> None:
        """Learn broker ids for `record` (first confirmation, recovery)."""
        if perm_id and record.perm_id is None:
            record.perm_id = perm_id
            self.index.bind_perm(perm_id, record.oms_id)
        elif perm_id and perm_id != record.perm_id and self.index.by_perm(perm_id) is None:
            # a second broker order carries this oms_id: keep counting its fills here (they
            # are real exposure) and tell the operator, never merge it silently
            self.index.bind_perm(perm_id, record.oms_id)
            self._log.alert(
                LogCode.DUPLICATE_BROKER_ORDER,
                "two broker orders for one oms_id",
                oms_id=record.oms_id,
                perm_id=record.perm_id,
                other_perm_id=perm_id,
            )
        ours = is_set(order_id) and client_id == self._config.client_id
        if ours and record.order_id is None:
            record.order_id = order_id
            record.client_id = client_id
            self.index.bind_alias(client_id, order_id, record.oms_id)

    # --- foreign -----------------------------------------------------------------------------

    def foreign(self, *, perm_id: int, client_id: int, order_ref: str, what: str) -> Sighting:
        stolen = client_id == self._config.client_id and self.ours(order_ref) is None
        if perm_id not in self._foreign_seen or not perm_id:
            self._foreign_seen.add(perm_id)
            self._log.info(
                LogCode.FOREIGN_ORDER,
                f"foreign {what} left out of the strategy's book",
                perm_id=perm_id,
                client_id=client_id,
                order_ref=order_ref,
            )
        return Sighting(foreign=True, stolen=stolen)

    # --- broker facts ------------------------------------------------------------------------

    def apply_open_order(self, report: OpenOrderReport, *, recovering: bool) -> Sighting:
        oms_id = self.find(
            perm_id=report.perm_id,
            order_ref=report.order_ref,
            client_id=report.client_id,
            order_id=report.order_id,
        )
        if oms_id is None:
            ref_oms_id = self.ours(report.order_ref)
            if ref_oms_id is None:
                return self.foreign(
                    perm_id=report.perm_id,
                    client_id=report.client_id,
                    order_ref=report.order_ref,
                    what="order",
                )
            record = self.adopt(ref_oms_id, _request_from(report))
            self._log.info(
                LogCode.RECONCILE_RECOVERED,
                "broker order of ours recovered",
                oms_id=ref_oms_id,
                perm_id=report.perm_id,
                broker_status=report.status,
            )
        else:
            record = self.orders[oms_id]
            if not record.acknowledged and recovering:
                record.recovered = True
                self._log.info(
                    LogCode.RECONCILE_RECOVERED,
                    "order the broker did receive: recovered with its broker ids",
                    oms_id=oms_id,
                    perm_id=report.perm_id,
                    broker_status=report.status,
                )
        self.bind(
            record, perm_id=report.perm_id, client_id=report.client_id, order_id=report.order_id
        )
        self._apply_broker_status(record, report.status)
        return Sighting(oms_id=record.oms_id)

    def apply_status(self, report: OrderStatusReport) -> Sighting:
        oms_id = self.find(
            perm_id=report.perm_id,
            order_ref="",
            client_id=report.client_id,
            order_id=report.order_id,
        )
        if oms_id is None:
            return Sighting(foreign=True)
        record = self.orders[oms_id]
        self.bind(
            record, perm_id=report.perm_id, client_id=report.client_id, order_id=report.order_id
        )
        self._apply_broker_status(record, report.status)
        return Sighting(oms_id=oms_id)

    def _apply_broker_status(self, record: OrderRecord, broker_status: str) -> None:
        record.acknowledged = True  # any status the broker reports means it has the order
        kind = kind_of_broker_status(broker_status)
        if kind is None:
            return
        before = record.status
        if kind is Kind.REJECT and before is Status.CANCEL_PENDING:
            self._log.info(
                LogCode.CANCEL_REDUNDANT,
                "broker says the order is already gone: CANCELED",
                oms_id=record.oms_id,
                broker_status=broker_status,
            )
        self.move(record, kind)  # ACK, FINAL_FILL, CANCELED and REJECT are total
        if record.status is before:
            return
        if record.status is Status.FILLED:
            self._log.info(
                LogCode.ORDER_STATUS,
                "broker reports the order filled",
                oms_id=record.oms_id,
                filled=record.filled,
            )
        elif record.status is Status.CANCELED:
            self._log.info(LogCode.ORDER_CANCELED, "order canceled", oms_id=record.oms_id)
        elif record.status is Status.REJECTED:
            self._log.info(
                LogCode.ORDER_REJECTED,
                "order rejected by the broker",
                oms_id=record.oms_id,
                broker_status=broker_status,
            )
        else:
            self._log.info(
                LogCode.ORDER_ACKNOWLEDGED,
                "order acknowledged by the broker",
                oms_id=record.oms_id,
                perm_id=record.perm_id,
                status=record.status.value,
            )

    def apply_execution(self, report: ExecutionReport) -> Sighting:
        """Count one execution once. Returns the order it touched (None: not counted)."""
        if report.shares == 0:
            self._log.info(
                LogCode.FILL_ZERO_QTY, "zero-quantity execution ignored", exec_id=report.exec_id
            )
            return Sighting()
        oms_id = self.find(
            perm_id=report.perm_id,
            order_ref=report.order_ref,
            client_id=report.client_id,
            order_id=report.order_id,
        )
        if oms_id is None and self.ours(report.order_ref) is None:
            return self._foreign_fill(report)
        if report.price < 0 and not self._negative_allowed(report.instrument):
            self._log.alert(
                LogCode.NEGATIVE_PRICE,
                "execution at a negative price on an instrument that cannot trade below zero",
                exec_id=report.exec_id,
                price=report.price,
                symbol=report.instrument.symbol,
            )
            return Sighting()
        record = self._orphan(report) if oms_id is None else self.orders[oms_id]
        self.bind(
            record, perm_id=report.perm_id, client_id=report.client_id, order_id=report.order_id
        )
        return self._count(record, report)

    def _orphan(self, report: ExecutionReport) -> OrderRecord:
        oms_id = self.ours(report.order_ref)
        assert oms_id is not None  # checked by the caller
        quantity = max(report.cum_qty, report.shares)
        record = self.adopt(
            oms_id,
            OrderRequest(
                instrument=report.instrument,
                side=report.side,
                quantity=quantity,
                order_type=OrderType.MARKET,
            ),
        )
        record.acknowledged = True
        record.synthesized = True
        self._log.alert(
            LogCode.ORPHAN_FILL,
            "execution for an order of ours with no record: order synthesized",
            oms_id=oms_id,
            exec_id=report.exec_id,
            perm_id=report.perm_id,
            shares=report.shares,
        )
        return record

    def _count(self, record: OrderRecord, report: ExecutionReport) -> Sighting:
        result = record.ledger.apply(report.exec_id, report.shares, report.price, report.time)
        ids = {"oms_id": record.oms_id, "exec_id": report.exec_id}
        if result.outcome is FillOutcome.DUPLICATE:
            self._log.info(LogCode.FILL_DUPLICATE, "duplicate execution ignored", **ids)
            return Sighting()
        if result.outcome is FillOutcome.CONFLICT:
            self._log.alert(
                LogCode.FILL_CONFLICT,
                "same execId with different data: kept the first, recorded this one",
                shares=report.shares,
                price=report.price,
                **ids,
            )
            return Sighting()
        if result.outcome is FillOutcome.STALE_CORRECTION:
            self._log.info(LogCode.FILL_DUPLICATE, "older revision of a correction", **ids)
            return Sighting()
        self._exec_owner[report.exec_id] = record.oms_id
        if record.synthesized:
            # an orphan's size is known only from its executions: each one may raise it
            size = max(record.quantity, record.filled, report.cum_qty)
            record.request = replace(record.request, quantity=size)
        self._add_position(
            self.positions,
            record.request.instrument,
            result.quantity_delta * record.request.side.sign,
        )
        record.last_fill_at = report.time
        was = record.status
        kind = Kind.FINAL_FILL if record.filled >= record.quantity else Kind.PARTIAL_FILL
        self.move(record, kind)
        if result.outcome is FillOutcome.CORRECTED:
            self._log.info(
                LogCode.FILL_CORRECTED,
                "execution correction replaced the earlier fill",
                replaced=result.replaced_exec_id,
                delta=result.quantity_delta,
                **ids,
            )
        elif was is Status.CANCELED:
            self._log.info(
                LogCode.FILL_AFTER_CANCEL,
                "fill after cancel accepted: the broker executed before the cancel",
                status=record.status.value,
                **ids,
            )
        else:
            self._log.info(
                LogCode.FILL_APPLIED,
                "fill applied",
                shares=report.shares,
                price=report.price,
                filled=record.filled,
                **ids,
            )
        if record.filled > record.quantity and not record.overfilled:
            record.overfilled = True
            self._log.alert(
                LogCode.OVERFILL,
                "filled more than the order quantity",
                filled=record.filled,
                quantity=record.quantity,
                **ids,
            )
        return Sighting(oms_id=record.oms_id)

    def _foreign_fill(self, report: ExecutionReport) -> Sighting:
        sighting = self.foreign(
            perm_id=report.perm_id,
            client_id=report.client_id,
            order_ref=report.order_ref,
            what="execution",
        )
        ours = report.account in ("", self._config.account)
        if ours and report.exec_id not in self._foreign_exec_ids:
            # foreign trades in our account move the broker's position there (OPS-02);
            # trades in other accounts the login can see do not
            self._foreign_exec_ids.add(report.exec_id)
            self._add_position(
                self.foreign_positions, report.instrument, report.shares * report.side.sign
            )
        return sighting

    def _add_position(
        self, table: dict[str, Decimal], instrument: Instrument, signed: Decimal
    ) -> None:
        self.know(instrument)
        table[instrument.key] = table.get(instrument.key, Decimal(0)) + signed

    # --- instruments -------------------------------------------------------------------------

    def know(self, instrument: Instrument, *, replace: bool = False) -> None:
        """Register an instrument under its book key (the first sighting stays unless
        `replace`), indexed by conId and symbol for contract-change lookups."""
        if instrument.key in self.instruments and not replace:
            return
        self.instruments[instrument.key] = instrument
        if instrument.con_id:
            self._keys_by_con_id.setdefault(instrument.con_id, set()).add(instrument.key)
        self._keys_by_symbol.setdefault(instrument.symbol, set()).add(instrument.key)

    def changed_instrument(self, new: Instrument, previous_symbol: str | None) -> Instrument | None:
        """A known instrument that `new` replaces: same conId under another key, or the
        symbol the broker says it had before (EDGE-02). Costs the same for any book size."""
        keys = set(self._keys_by_con_id.get(new.con_id, ())) if new.con_id else set()
        if previous_symbol is not None:
            keys |= self._keys_by_symbol.get(previous_symbol, set())
        keys.discard(new.key)
        return self.instruments[min(keys)] if keys else None

    def apply_commission(self, exec_id: str, commission: Decimal) -> bool:
        oms_id = self._exec_owner.get(exec_id)
        if oms_id is None:
            return False
        return self.orders[oms_id].ledger.set_commission(exec_id, commission)

    def _negative_allowed(self, instrument: Instrument) -> bool:
        return (
            instrument.sec_type in self._config.negative_price_sec_types
            or instrument.symbol in self._config.negative_price_symbols
        )


def _request_from(report: OpenOrderReport) -> OrderRequest:
    return OrderRequest(
        instrument=report.instrument,
        side=report.side,
        quantity=report.quantity,
        order_type=report.order_type,
        limit_price=report.limit_price if report.order_type is OrderType.LIMIT else None,
        tif=report.tif,
    )
