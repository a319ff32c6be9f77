"""The account's books at the simulated broker: orders, executions and positions.

Owns the broker's truth, the thing the engine is reconciled against. `SimOrder` is the
broker's mutable record of one order and renders itself as IB messages; `Ledger` holds
every order (by permId), every execution (by execId, corrections included) and the
positions per (account, conId). Invariants: `filled` and `avg_fill_price` of an order are
derived from the executions booked against it; positions move only by booked executions
(or an explicit `force_position` a case uses to make the books disagree); an order's status
changes only through `SimOrder.complete`, which keeps the ledger's index of live orders (by
symbol) exact, so matching on a price move or answering reqOpenOrders costs the live orders
only, however many orders were ever booked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from ibguard.errors import UsageError
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


@dataclass(slots=True)
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
            status=self.status,
            filled=self.filled,
            remaining=Decimal(0) if not self.is_live else self.remaining,
            avgFillPrice=self.avg_fill_price,
            permId=self.perm_id,
            parentId=self.parent_id,
            lastFillPrice=self.last_fill_price,
            clientId=self.client_id,
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


@dataclass
class Ledger:
    orders: dict[int, SimOrder] = field(default_factory=dict)  # by permId
    executions: list[BookedExecution] = field(default_factory=list)
    positions: dict[tuple[str, int], PositionLine] = field(default_factory=dict)
    # cash moved by executions and commissions per account (the start cash is the broker's)
    cash_moves: dict[str, Decimal] = field(default_factory=dict)
    _by_client_order: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    _by_ref: dict[str, list[int]] = field(default_factory=dict)
    _exec_index: dict[str, int] = field(default_factory=dict)
    # the live orders in booking order, all and per symbol (kept by `_restatus`)
    _live: dict[int, SimOrder] = field(default_factory=dict)
    _live_by_symbol: dict[str, dict[int, SimOrder]] = field(default_factory=dict)
    # the live members of a bracket or an OCA group: what a fill or cancel may touch, so
    # finding them never walks every live order (PERF-01's 10k book)
    _live_grouped: dict[int, SimOrder] = field(default_factory=dict)

    def add_order(self, order: SimOrder) -> None:
        self.orders[order.perm_id] = order
        self._by_client_order.setdefault((order.client_id, order.order_id), []).append(
            order.perm_id
        )
        self._by_ref.setdefault(order.order_ref, []).append(order.perm_id)
        order.on_status = self._restatus
        self._restatus(order)

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
        if self.orders.get(perm_id) is not order:
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

    def forget_order(self, perm_id: int) -> SimOrder:
        """Erase an order and its executions from the books (FAIL-04: no record at all)."""
        order = self.orders.pop(perm_id)
        order.on_status = None
        self._unlive(order)
        self._by_client_order[(order.client_id, order.order_id)].remove(perm_id)
        self._by_ref[order.order_ref].remove(perm_id)
        self.executions = [e for e in self.executions if e.execution.permId != perm_id]
        self._exec_index = {e.execution.execId: i for i, e in enumerate(self.executions)}
        return order

    def prune_before(self, day_start: datetime) -> None:
        """A new trading day: orders finished by ``day_start`` and every execution booked
        so far leave the books (TWS reports only the day's completed orders and executions);
        live orders and positions stay. Keeps memory bounded by one day's activity."""
        gone = [
            o
            for o in self.orders.values()
            if not o.is_live and o.completed_time is not None and o.completed_time <= day_start
        ]
        for order in gone:
            del self.orders[order.perm_id]
            order.on_status = None
            _remove(self._by_client_order, (order.client_id, order.order_id), order.perm_id)
            _remove(self._by_ref, order.order_ref, order.perm_id)
        # fresh tables: a dict keeps its capacity after deletions
        self.orders = dict(self.orders)
        self._by_client_order = dict(self._by_client_order)
        self._by_ref = dict(self._by_ref)
        self.executions = []
        self._exec_index = {}

    def add_execution(self, booked: BookedExecution) -> None:
        self._exec_index[booked.execution.execId] = len(self.executions)
        self.executions.append(booked)

    def move_cash(self, account: str, amount: Decimal) -> None:
        self.cash_moves[account] = self.cash_moves.get(account, Decimal(0)) + amount

    def _same_ids(self, client_id: int, order_id: int) -> list[SimOrder]:
        perm_ids = self._by_client_order.get((client_id, order_id), [])
        return [self.orders[p] for p in perm_ids]

    def live_order(self, client_id: int, order_id: int) -> SimOrder | None:
        """The live order this client knows as `order_id` (the newest if reused)."""
        live = [o for o in self._same_ids(client_id, order_id) if o.is_live]
        return live[-1] if live else None

    def latest_order(self, client_id: int, order_id: int) -> SimOrder | None:
        same = self._same_ids(client_id, order_id)
        return same[-1] if same else None

    def by_ref(self, order_ref: str) -> list[SimOrder]:
        return [self.orders[p] for p in self._by_ref.get(order_ref, [])]

    def execution(self, exec_id: str) -> BookedExecution:
        if exec_id not in self._exec_index:
            raise UsageError(f"no execution {exec_id}")
        return self.executions[self._exec_index[exec_id]]

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


def _remove(index: dict[_K, list[int]], key: _K, perm_id: int) -> None:
    ids = index.get(key)
    if ids is not None and perm_id in ids:
        ids.remove(perm_id)
        if not ids:
            del index[key]
