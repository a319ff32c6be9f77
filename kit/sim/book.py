"""The account's books at the simulated broker: orders, executions and positions.

Owns the broker's truth, the thing the engine is reconciled against. `SimOrder` is the
broker's mutable record of one order and renders itself as IB messages; `Ledger` holds
every order (by permId), every execution (by execId, corrections included) and the
positions per (account, conId). The live orders are objects; finished orders and executions
are objects until more than `keep` gather, then move to the day's archive (`archive.py`) as
rows at the end of a broker operation (`settle`), so a long day costs bounded memory. A
lookup by permId or by orderId takes an archived order back out as an object (the very
object a caller still holds, if one does), so changes to it (a late fill) are kept.
Invariants: `filled` and `avg_fill_price` of an order are derived from the executions
booked against it; positions move only by booked executions (or an explicit
`force_position` a case uses to make the books disagree); an order's status changes only
through `SimOrder.complete`, which keeps the ledger's index of live orders (by symbol)
exact, so matching on a price move or answering reqOpenOrders costs the live orders only,
however many orders were ever booked.
"""

from __future__ import annotations

import heapq
import itertools
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TypeVar, overload

from ibguard.errors import IndexOutOfRange, UnknownKey, UsageError
from ibguard.kit.sim.archive import DayArchive, FlatCodec, micros
from ibguard.kit.sim.margins import multiplier_of
from ibguard.kit.sim.messages import (
    CommissionReport,
    Contract,
    Execution,
    Order,
    OrderState,
    OrderStatus,
)

__all__ = ["LIVE_STATUSES", "BookedExecution", "Ledger", "PositionLine", "SimOrder"]

_K = TypeVar("_K")

LIVE_STATUSES = frozenset({"PendingSubmit", "PreSubmitted", "Submitted", "PendingCancel"})


@dataclass  # not slotted: the ledger keeps weak references to archived orders
class SimOrder:
    order_id: int
    client_id: int
    perm_id: int
    contract: Contract
    action: str
    quantity: Decimal
    order_type: str
    lmt_price: Decimal | None
    tif: str
    account: str
    order_ref: str
    placed_at: datetime
    status: str = "Submitted"
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    last_fill_price: Decimal = Decimal(0)
    completed_time: datetime | None = None
    completed_status: str = ""
    muted: bool = False
    broadcast: bool = False
    aux_price: Decimal | None = None
    # brackets and OCA: the parent's orderId (same client), the OCA group, and whether the
    # order still waits at TWS for a later order of its chain with transmit=True
    parent_id: int = 0
    oca_group: str = ""
    untransmitted: bool = False
    # why the broker holds a live order (a short sale waiting for a locate): while set,
    # orderStatus says Inactive with this whyHeld (LIFE-13)
    why_held: str = ""
    # the ledger's hook: called after every status change (set by `Ledger.add_order`)
    on_status: Callable[[SimOrder], None] | None = field(default=None, repr=False, compare=False)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def remaining(self) -> Decimal:
        return max(self.quantity - self.filled, Decimal(0))

    @property
    def avg_fill_price(self) -> Decimal:
        return self.notional / self.filled if self.filled else Decimal(0)

    def complete(self, status: str, when: datetime, detail: str = "") -> None:
        self.status = status
        self.completed_time = when
        self.completed_status = detail or status
        if self.on_status is not None:
            self.on_status(self)

    def to_order(self) -> Order:
        return Order(
            orderId=self.order_id,
            clientId=self.client_id,
            permId=self.perm_id,
            action=self.action,
            totalQuantity=self.quantity,
            orderType=self.order_type,
            lmtPrice=self.lmt_price,
            auxPrice=self.aux_price,
            tif=self.tif,
            ocaGroup=self.oca_group,
            account=self.account,
            orderRef=self.order_ref,
            parentId=self.parent_id,
            transmit=not self.untransmitted,
            filledQuantity=self.filled,
        )

    def to_state(self) -> OrderState:
        return OrderState(
            status=self.status,
            completedTime=self.completed_time,
            completedStatus=self.completed_status if self.completed_time else "",
        )

    def to_status(self) -> OrderStatus:
        return OrderStatus(
            orderId=self.order_id,
            status="Inactive" if self.why_held and self.is_live else self.status,
            filled=self.filled,
            remaining=Decimal(0) if not self.is_live else self.remaining,
            avgFillPrice=self.avg_fill_price,
            permId=self.perm_id,
            parentId=self.parent_id,
            lastFillPrice=self.last_fill_price,
            clientId=self.client_id,
            whyHeld=self.why_held if self.is_live else "",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BookedExecution:
    contract: Contract
    execution: Execution
    commission: CommissionReport


@dataclass
class PositionLine:
    account: str
    contract: Contract
    position: Decimal = Decimal(0)
    avg_cost: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)  # price moves of closed units, before commissions

    @property
    def multiplier(self) -> Decimal:
        """Units per contract: 100 for an equity option, 50 for ES, 1 for a stock."""
        return multiplier_of(self.contract.multiplier)

    @property
    def average_cost(self) -> Decimal:
        """IB's averageCost/avgCost: per contract, so an option bought at 2.50 costs 250."""
        return self.avg_cost * self.multiplier

    def apply(self, signed_qty: Decimal, price: Decimal) -> None:
        new = self.position + signed_qty
        if self.position and (self.position > 0) != (signed_qty > 0):
            closed = min(abs(self.position), abs(signed_qty))
            sign = 1 if self.position > 0 else -1
            self.realized_pnl += closed * (price - self.avg_cost) * sign
        if new == 0:
            self.avg_cost = Decimal(0)
        elif self.position == 0 or (self.position > 0) != (new > 0):
            self.avg_cost = price  # opened, or flipped through zero
        elif (self.position > 0) == (signed_qty > 0):
            self.avg_cost = (self.avg_cost * self.position + price * signed_qty) / new
        self.position = new


class Ledger:
    """The books; finished orders and executions beyond ``keep`` move to ``archive``."""

    def __init__(self, archive: DayArchive | None = None, *, keep: int = 500) -> None:
        if keep < 0:
            raise UsageError(f"objects_per_archive_batch must be 0 or more, got {keep}")
        self.archive = archive or DayArchive()
        self.keep = keep
        self.positions: dict[tuple[str, int], PositionLine] = {}
        # cash moved by executions and commissions per account (the start cash is the broker's)
        self.cash_moves: dict[str, Decimal] = {}
        # the orders held as objects (the live ones, and finished ones not archived yet or
        # taken back out of the archive to be changed), by permId, and indexed
        self._held: dict[int, SimOrder] = {}
        self._by_client_order: dict[tuple[int, int], list[int]] = {}
        self._by_ref: dict[str, list[int]] = {}
        # archived orders some caller still holds: a lookup hands back that very object
        self._handles: weakref.WeakValueDictionary[int, SimOrder] = weakref.WeakValueDictionary()
        # the live orders in booking order, all and per symbol (kept by `_restatus`)
        self._live: dict[int, SimOrder] = {}
        self._live_by_symbol: dict[str, dict[int, SimOrder]] = {}
        # the live members of a bracket or an OCA group: what a fill or cancel may touch, so
        # finding them never walks every live order (PERF-01's 10k book)
        self._live_grouped: dict[int, SimOrder] = {}
        self._broadcast: set[int] = set()  # permIds of orders injected with broadcast (few)
        # executions not archived yet (the newest), after `_archived_executions` archived ones
        self._recent_executions: list[BookedExecution] = []
        self._archived_executions = 0
        self._next_exec_seq = 0
        self.orders: Mapping[int, SimOrder] = _OrdersView(self)
        self.executions: Sequence[BookedExecution] = _ExecutionsView(self)

    # --- orders -------------------------------------------------------------------------

    def add_order(self, order: SimOrder) -> None:
        self._hold(order)
        self._restatus(order)
        if order.broadcast:
            self._broadcast.add(order.perm_id)

    def is_broadcast(self, perm_id: int) -> bool:
        """Whether the order was injected for every session to hear (without reading it)."""
        return perm_id in self._broadcast

    def _hold(self, order: SimOrder) -> None:
        perm_id = order.perm_id
        self._held[perm_id] = order
        self._by_client_order.setdefault((order.client_id, order.order_id), []).append(perm_id)
        self._by_ref.setdefault(order.order_ref, []).append(perm_id)
        order.on_status = self._restatus

    def _release(self, order: SimOrder) -> None:
        perm_id = order.perm_id
        del self._held[perm_id]
        _remove(self._by_client_order, (order.client_id, order.order_id), perm_id)
        _remove(self._by_ref, order.order_ref, perm_id)
        order.on_status = None

    def order(self, perm_id: int) -> SimOrder:
        """The order booked as ``perm_id``, held as an object from now on so a change to it
        is kept (an archived one comes back out until the next `settle`). KeyError if none."""
        order = self._held.get(perm_id)
        if order is not None:
            return order
        order = self._handles.get(perm_id)
        if order is None:
            body = self.archive.order_body(perm_id)
            if body is None:
                raise UnknownKey(perm_id)
            order = self._decode_order(body)
        self._hold(order)
        return order

    def peek(self, perm_id: int) -> SimOrder | None:
        """The order booked as ``perm_id`` to read (not to change), or None."""
        order = self._held.get(perm_id) or self._handles.get(perm_id)
        if order is None:
            body = self.archive.order_body(perm_id)
            order = None if body is None else self._decode_order(body)
        return order

    def _decode_order(self, body: bytes) -> SimOrder:
        order = self.archive.decode(_ORDER_ROW, body)
        self._handles[order.perm_id] = order
        return order

    def _decode_execution(self, body: bytes) -> BookedExecution:
        return self.archive.decode(_EXECUTION_ROW, body)

    def _read(self, perm_id: int, body: bytes) -> SimOrder:
        """An archived row as an order: the object in memory if there is one."""
        order = self._held.get(perm_id) or self._handles.get(perm_id)
        return order if order is not None else self._decode_order(body)

    def all_orders(self) -> Iterator[SimOrder]:
        """Every order on the books, held or archived, in booking (permId) order."""
        held = self._held
        archived = ((p, b) for p, b in self.archive.orders() if p not in held)
        merged = heapq.merge(((p, b"") for p in sorted(held)), archived, key=_first)
        for perm_id, body in merged:
            yield held[perm_id] if not body else self._read(perm_id, body)

    def order_count(self) -> int:
        held = self._held
        return len(held) + sum(1 for p in self.archive.order_ids() if p not in held)

    def live_orders(self, symbol: str | None = None) -> list[SimOrder]:
        """The live orders (of `symbol`, or all) in booking order: a snapshot, so a caller
        may fill or cancel them while it walks the list."""
        if symbol is None:
            return list(self._live.values())
        return list(self._live_by_symbol.get(symbol, {}).values())

    def live_grouped_orders(self) -> list[SimOrder]:
        """The live orders with a parent or an OCA group, in booking order (a snapshot)."""
        return list(self._live_grouped.values())

    def _restatus(self, order: SimOrder) -> None:
        perm_id = order.perm_id
        if self._held.get(perm_id) is not order:
            return  # a copy of a booked order, or one forgotten: not the books' to index
        if order.is_live:
            self._live[perm_id] = order
            self._live_by_symbol.setdefault(order.contract.symbol, {})[perm_id] = order
            if order.parent_id or order.oca_group:
                self._live_grouped[perm_id] = order
        else:
            self._unlive(order)

    def _unlive(self, order: SimOrder) -> None:
        self._live.pop(order.perm_id, None)
        self._live_grouped.pop(order.perm_id, None)
        same_symbol = self._live_by_symbol.get(order.contract.symbol)
        if same_symbol is not None and same_symbol.get(order.perm_id) is order:
            del same_symbol[order.perm_id]
            if not same_symbol:
                del self._live_by_symbol[order.contract.symbol]

    def settle(self) -> None:
        """The end of a broker operation: once more than ``keep`` finished orders (or
        executions) are held as objects, they move to the archive as rows."""
        if len(self._held) - len(self._live) > self.keep:
            finished = [o for o in self._held.values() if not o.is_live]
            encode = self.archive.encode
            self.archive.put_orders(
                [
                    (
                        o.perm_id,
                        o.client_id,
                        o.order_id,
                        o.order_ref,
                        None if o.completed_time is None else micros(o.completed_time),
                        encode(_ORDER_ROW, o),
                    )
                    for o in finished
                ]
            )
            for order in finished:
                self._release(order)
                self._handles[order.perm_id] = order  # the same object while someone holds it
            if not self._held:  # fresh tables: a dict keeps its capacity after deletions
                self._held, self._by_client_order, self._by_ref = {}, {}, {}
        if len(self._recent_executions) > self.keep:
            encode = self.archive.encode
            first = self._next_exec_seq - len(self._recent_executions)
            self.archive.put_executions(
                [
                    (
                        first + i,
                        b.execution.execId,
                        b.execution.permId,
                        encode(_EXECUTION_ROW, b),
                    )
                    for i, b in enumerate(self._recent_executions)
                ]
            )
            self._archived_executions += len(self._recent_executions)
            self._recent_executions = []

    def objects_held(self) -> tuple[int, int]:
        """(orders, executions) held as objects: the live orders, and what awaits `settle`."""
        return len(self._held), len(self._recent_executions)

    def forget_order(self, perm_id: int) -> SimOrder:
        """Erase an order and its executions from the books (FAIL-04: no record at all)."""
        order = self.order(perm_id)
        self._release(order)
        self._unlive(order)
        self._handles.pop(perm_id, None)
        self._broadcast.discard(perm_id)
        self.archive.drop_order(perm_id)
        self._recent_executions = [
            e for e in self._recent_executions if e.execution.permId != perm_id
        ]
        self._archived_executions = self.archive.execution_count()
        return order

    def prune_before(self, day_start: datetime) -> None:
        """A new trading day: orders finished by ``day_start`` and every execution booked
        so far leave the books (TWS reports only the day's completed orders and executions);
        live orders and positions stay. Keeps memory bounded by one day's activity."""
        gone = [
            o
            for o in self._held.values()
            if not o.is_live and o.completed_time is not None and o.completed_time <= day_start
        ]
        pruned = [o.perm_id for o in gone]
        for order in gone:
            self._release(order)
        pruned += self.archive.drop_orders_done_by(micros(day_start))
        for perm_id in pruned:  # a caller's object of a pruned order is not the books' any more
            self._handles.pop(perm_id, None)
            self._broadcast.discard(perm_id)
        # fresh tables: a dict keeps its capacity after deletions
        self._held = dict(self._held)
        self._by_client_order = dict(self._by_client_order)
        self._by_ref = dict(self._by_ref)
        self.archive.drop_executions()
        self._recent_executions = []
        self._archived_executions = 0

    # --- executions ---------------------------------------------------------------------

    def add_execution(self, booked: BookedExecution) -> None:
        self._recent_executions.append(booked)
        self._next_exec_seq += 1

    def all_executions(self, start: int = 0) -> Iterator[BookedExecution]:
        """The executions booked today from the ``start``-th on, in booking order."""
        archived = self._archived_executions
        if start < archived:
            bodies = itertools.islice(self.archive.executions(), start, None)
            yield from (self._decode_execution(body) for body in bodies)
        yield from self._recent_executions[max(start - archived, 0) :]

    def execution(self, exec_id: str) -> BookedExecution:
        for booked in reversed(self._recent_executions):
            if booked.execution.execId == exec_id:
                return booked
        body = self.archive.execution_body(exec_id)
        if body is None:
            raise UsageError(f"no execution {exec_id}")
        return self._decode_execution(body)

    def execution_at(self, index: int) -> BookedExecution:
        archived = self._archived_executions
        count = archived + len(self._recent_executions)
        position = index + count if index < 0 else index
        if not 0 <= position < count:
            raise IndexOutOfRange(index)
        if position >= archived:
            return self._recent_executions[position - archived]
        return self._decode_execution(self.archive.execution_at(position))

    def execution_count(self) -> int:
        return self._archived_executions + len(self._recent_executions)

    # --- money and positions ------------------------------------------------------------

    def move_cash(self, account: str, amount: Decimal) -> None:
        self.cash_moves[account] = self.cash_moves.get(account, Decimal(0)) + amount

    def _same_ids(self, client_id: int, order_id: int) -> list[SimOrder]:
        perm_ids = self._by_client_order.get((client_id, order_id), [])
        return [self._held[p] for p in perm_ids]

    def live_order(self, client_id: int, order_id: int) -> SimOrder | None:
        """The live order this client knows as `order_id` (the newest if reused)."""
        live = [o for o in self._same_ids(client_id, order_id) if o.is_live]
        return live[-1] if live else None

    def latest_order(self, client_id: int, order_id: int) -> SimOrder | None:
        """The newest order this client placed as `order_id`, live or finished."""
        held = self._by_client_order.get((client_id, order_id), [])
        newest = max(held, default=None)
        archived = self.archive.latest_perm_id(client_id, order_id)
        if archived is not None and (newest is None or archived > newest):
            newest = archived
        return None if newest is None else self.order(newest)

    def by_ref(self, order_ref: str) -> list[SimOrder]:
        held = self._by_ref.get(order_ref, [])
        found = {p: self._held[p] for p in held}
        for perm_id, body in self.archive.orders_by_ref(order_ref):
            if perm_id not in found:
                found[perm_id] = self._read(perm_id, body)
        return [found[p] for p in sorted(found)]

    def position_line(self, account: str, contract: Contract) -> PositionLine:
        key = (account, contract.conId)
        line = self.positions.get(key)
        if line is None:
            line = PositionLine(account=account, contract=contract)
            self.positions[key] = line
        line.contract = contract
        return line

    def position(self, account: str, symbol: str) -> Decimal:
        return sum(
            (
                p.position
                for p in self.positions.values()
                if p.account == account and p.contract.symbol == symbol
            ),
            Decimal(0),
        )


class _OrdersView(Mapping[int, SimOrder]):
    """Every order on the books by permId, held or archived; a lookup holds the order so a
    change to it is kept (`Ledger.order`), a walk only reads."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def __getitem__(self, perm_id: int) -> SimOrder:
        return self._ledger.order(perm_id)

    def __iter__(self) -> Iterator[int]:
        return (o.perm_id for o in self._ledger.all_orders())

    def __len__(self) -> int:
        return self._ledger.order_count()

    def __contains__(self, perm_id: object) -> bool:
        return isinstance(perm_id, int) and self._ledger.peek(perm_id) is not None

    def values(self) -> ValuesView[SimOrder]:
        return _OrderValues(self, self._ledger)


class _OrderValues(ValuesView[SimOrder]):
    """A walk of every order that reads each (no lookup, so nothing is held)."""

    def __init__(self, view: _OrdersView, ledger: Ledger) -> None:
        super().__init__(view)
        self._ledger = ledger

    def __iter__(self) -> Iterator[SimOrder]:
        return self._ledger.all_orders()


class _ExecutionsView(Sequence[BookedExecution]):
    """Every execution booked today, held or archived, in booking order."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @overload
    def __getitem__(self, index: int) -> BookedExecution: ...
    @overload
    def __getitem__(self, index: slice) -> list[BookedExecution]: ...
    def __getitem__(self, index: int | slice) -> BookedExecution | list[BookedExecution]:
        if isinstance(index, slice):
            return list(self._ledger.all_executions())[index]
        return self._ledger.execution_at(index)

    def __iter__(self) -> Iterator[BookedExecution]:
        return self._ledger.all_executions()

    def __len__(self) -> int:
        return self._ledger.execution_count()


# what archived rows hold (an order's status hook is the ledger's, not data)
_ORDER_ROW = FlatCodec(SimOrder, skip=("on_status",))
_EXECUTION_ROW = FlatCodec(
    BookedExecution,
    nested={"execution": FlatCodec(Execution), "commission": FlatCodec(CommissionReport)},
)


def _first(item: tuple[int, bytes]) -> int:
    return item[0]


def _remove(index: dict[_K, list[int]], key: _K, perm_id: int) -> None:
    ids = index.get(key)
    if ids is not None and perm_id in ids:
        ids.remove(perm_id)
        if not ids:
            del index[key]
