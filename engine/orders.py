"""The engine's mutable record of one order; only its frozen snapshot leaves the engine."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ibguard.engine.fills import FillLedger
from ibguard.engine.model import OrderRequest, OrderSnapshot, Status

__all__ = ["OrderRecord"]


# CPython lays out a class's slots sorted by name, after those of its base classes. The
# record is 20 slots (192 bytes with its GC header, a multiple of the 64-byte cache line, so
# every record starts on a line), laid out so that the common broker event reads one or
# two cache lines of it and not all of it: with 100k open orders nearly every record an
# event touches is out of the cache. Line 0: the object header, the fill ledger's two slots
# (FillLedger is the root base) and what an orderStatus touches; line 1: what a fill adds.
@dataclass(slots=True, eq=False, kw_only=True)
class _StatusFields(FillLedger):
    status: Status = Status.NEW
    acknowledged: bool = False  # the broker confirmed it exists (openOrder/orderStatus)
    timed: bool = False  # a stale-order timer runs for it (stale.py)
    updated_at: datetime | None = None


@dataclass(slots=True, eq=False, kw_only=True)
class _FillFields(_StatusFields):
    request: OrderRequest
    # the orderId it was sent with (under our clientId): a provisional alias
    order_id: int | None = None
    perm_id: int | None = None
    synthesized: bool = False  # built from an orphan execution: its quantity is a floor
    # what a fill needs of the request, copied from it by `take` (a fill then leaves the
    # request, another object elsewhere in memory, alone)
    key: str = field(init=False)  # the instrument's book key, one string per key
    quantity: Decimal = field(init=False)
    sign: int = field(init=False)  # +1 buys, -1 sells
    last_fill_at: datetime | None = None


@dataclass(slots=True, eq=False, kw_only=True)
class OrderRecord(_FillFields):
    oms_id: str
    recovered: bool = False
    pending_reconcile: bool = False
    overfilled: bool = False
    sent_epoch: int = -1  # reconcile epoch in which it was last sent
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        FillLedger.__init__(self)  # the generated __init__ sets the dataclass fields only
        self.take(self.request)

    def take(self, request: OrderRequest) -> None:
        """The order's request from now on (the only way it changes)."""
        self.request = request
        # one string object per key however many orders use it: a position lookup by it
        # matches by identity, without reading another copy
        self.key = sys.intern(request.instrument.key)
        self.quantity = request.quantity
        self.sign = request.side.sign

    @property
    def is_flatten(self) -> bool:
        return self.request.flatten_reason is not None

    def snapshot(self, client_id: int) -> OrderSnapshot:
        """The frozen view; `client_id` is the engine's (its orderIds are all under it)."""
        filled = self._filled
        return OrderSnapshot(
            oms_id=self.oms_id,
            instrument=self.request.instrument,
            side=self.request.side,
            quantity=self.quantity,
            order_type=self.request.order_type,
            limit_price=self.request.limit_price,
            tif=self.request.tif,
            status=self.status,
            filled=filled,
            remaining=max(self.quantity - filled, Decimal(0))
            if not self.status.is_terminal
            else Decimal(0),
            avg_fill_price=self.avg_price,
            broker_order_id=self.order_id if self.acknowledged else None,
            perm_id=self.perm_id,
            client_id=client_id if self.acknowledged and self.order_id is not None else None,
            recovered=self.recovered,
            pending_reconcile=self.pending_reconcile,
            flatten_reason=self.request.flatten_reason,
            overfilled=self.overfilled,
            created_at=self.created_at,
            updated_at=self.updated_at,
            last_fill_at=self.last_fill_at,
            fills=self.views(),
        )
