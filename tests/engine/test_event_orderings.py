"""Random interleavings of broker events and intents against a broker model.

A small model of the broker (which orders it received, which are live, every execution it
reported) drives the engine through acknowledgements, partial fills, duplicate and corrected
executions, cancels, cancel refusals, rejects, disconnects and reconciles. After every step:
- filled = Σ of the latest revision of each unique execution, never above quantity unless
  an overfill was recorded;
- the position = Σ of the engine's own fills;
- terminal states absorb everything but late fills;
- never two live broker orders for one oms_id;
- handle() never raises (any exception fails the run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from ibguard.engine import PlaceOrder, Side, Status
from ibguard.engine.events import (
    BrokerError,
    CompletedOrdersSnapshot,
    ConnectionLost,
    ConnectionRestored,
    ExecutionsSnapshot,
    OpenOrdersSnapshot,
    RequestCancel,
)

from tests.engine.scenario import AAPL, Scenario
from tests.strategies import order_ids, prices, quantities


@dataclass
class BrokerOrder:
    """What the broker knows of one oms_id's current order."""

    oms_id: str
    order_id: int
    side: Side
    quantity: Decimal
    received: bool = True  # False: lost in a mid-submit disconnect
    acked: bool = False
    terminal: bool = False
    executions: dict[str, tuple[int, Decimal, Decimal]] = field(default_factory=dict)

    @property
    def filled(self) -> Decimal:
        return sum((q for _, q, _ in self.executions.values()), Decimal(0))


class EngineAgainstBroker(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sc = Scenario()
        self.broker: dict[str, BrokerOrder] = {}
        self.history: list[BrokerOrder] = []  # every broker order ever, for positions
        self.exec_seq = 0
        self.connected = True
        self.terminal_seen: dict[str, Status] = {}

    # --- helpers ---------------------------------------------------------------------------

    def _feed(self, *events: object) -> None:
        for command in self.sc.feed(*events):  # type: ignore[arg-type]
            if isinstance(command, PlaceOrder):
                current = self.broker.get(command.oms_id)
                assert current is None or not current.received or current.terminal, (
                    f"two live broker orders for {command.oms_id}"
                )
                order = BrokerOrder(
                    oms_id=command.oms_id,
                    order_id=command.order_id,
                    side=command.request.side,
                    quantity=command.request.quantity,
                )
                self.broker[command.oms_id] = order
                self.history.append(order)

    def _live(self, oms_id: str) -> BrokerOrder | None:
        order = self.broker.get(oms_id)
        if order is None or not order.received or order.terminal:
            return None
        return order

    def _perm(self, order: BrokerOrder) -> int:
        return 500_000 + self.history.index(order)

    # --- intents ---------------------------------------------------------------------------

    @initialize(quantity=quantities, side=st.sampled_from(list(Side)), ack=st.booleans())
    def start_with_an_order(self, quantity: Decimal, side: Side, ack: bool) -> None:
        self.submit("o0", quantity, side)
        if ack:
            self.acknowledge("o0")

    @rule(oms_id=order_ids, quantity=quantities, side=st.sampled_from(list(Side)))
    def submit(self, oms_id: str, quantity: Decimal, side: Side) -> None:
        self._feed(*self.sc_submit(oms_id, quantity, side))

    def sc_submit(self, oms_id: str, quantity: Decimal, side: Side) -> list[object]:
        from ibguard.engine import OrderRequest, OrderType
        from ibguard.engine.events import SubmitOrder

        request = OrderRequest(
            instrument=AAPL, side=side, quantity=quantity, order_type=OrderType.MARKET
        )
        return [SubmitOrder(oms_id=oms_id, request=request)]

    @rule(oms_id=order_ids)
    def cancel(self, oms_id: str) -> None:
        self._feed(RequestCancel(oms_id=oms_id))

    # --- broker events ---------------------------------------------------------------------

    def _report(self, order: BrokerOrder, status: str):  # type: ignore[no-untyped-def]
        return self.sc.open_order(
            order.oms_id,
            status,
            order_id=order.order_id,
            perm_id=self._perm(order),
            quantity=str(order.quantity),
            side=order.side,
        )

    @precondition(lambda self: self.connected)
    @rule(oms_id=order_ids)
    def acknowledge(self, oms_id: str) -> None:
        order = self._live(oms_id)
        if order is not None:
            order.acked = True
            self._feed(self._report(order, "Submitted"))

    def _execution(self, order: BrokerOrder, exec_id: str, shares: Decimal, price: Decimal):  # type: ignore[no-untyped-def]
        return self.sc.fill(
            order.oms_id,
            str(shares),
            str(price),
            exec_id=exec_id,
            side=order.side,
            order_id=order.order_id,
            perm_id=self._perm(order),
        )

    @precondition(lambda self: self.connected)
    @rule(oms_id=order_ids, shares=quantities, price=prices)
    def fill(self, oms_id: str, shares: Decimal, price: Decimal) -> None:
        order = self._live(oms_id)
        if order is None:
            return
        shares = min(shares, order.quantity - order.filled)
        if shares <= 0:
            return
        self.exec_seq += 1
        base = f"0000e0d5.{self.exec_seq:08x}.01"
        order.executions[base] = (1, shares, price)
        order.acked = True
        if order.filled >= order.quantity:
            order.terminal = True
        self._feed(self._execution(order, f"{base}.01", shares, price))

    @precondition(lambda self: self.connected)
    @rule(oms_id=order_ids, data=st.data())
    def replay_execution(self, oms_id: str, data: st.DataObject) -> None:
        order = self.broker.get(oms_id)
        if order is None or not order.executions:
            return
        base = data.draw(st.sampled_from(sorted(order.executions)))
        revision, shares, price = order.executions[base]
        event("replayed an execution")
        self._feed(self._execution(order, f"{base}.{revision:02d}", shares, price))

    @precondition(lambda self: self.connected)
    @rule(oms_id=order_ids, data=st.data(), price=prices)
    def correct_execution(self, oms_id: str, data: st.DataObject, price: Decimal) -> None:
        order = self.broker.get(oms_id)
        if order is None or not order.executions:
            return
        base = data.draw(st.sampled_from(sorted(order.executions)))
        revision, shares, _ = order.executions[base]
        order.executions[base] = (revision + 1, shares, price)
        self._feed(self._execution(order, f"{base}.{revision + 1:02d}", shares, price))

    @precondition(lambda self: self.connected)
    @rule(oms_id=order_ids, how=st.sampled_from(["202", "status"]))
    def broker_cancels(self, oms_id: str, how: str) -> None:
        order = self._live(oms_id)
        if order is None:
            return
        order.terminal = True
        order.acked = True
        if how == "202":
            self._feed(BrokerError(req_id=order.order_id, code=202, message="Order Canceled"))
        else:
            self._feed(self._report(order, "Cancelled"))

    @precondition(lambda self: self.connected)
    @rule(oms_id=order_ids, code=st.sampled_from([10147, 10148, 161]))
    def broker_refuses_cancel(self, oms_id: str, code: int) -> None:
        order = self._live(oms_id)
        if order is not None:
            self._feed(BrokerError(req_id=order.order_id, code=code, message="cannot cancel"))

    @precondition(lambda self: self.connected)
    @rule(oms_id=order_ids)
    def broker_rejects(self, oms_id: str) -> None:
        order = self._live(oms_id)
        if order is not None and not order.executions:
            order.terminal = True
            self._feed(BrokerError(req_id=order.order_id, code=201, message="Order rejected"))

    @precondition(lambda self: self.connected)
    @rule(lost=st.booleans())
    def disconnect(self, lost: bool) -> None:
        self.connected = False
        if lost:  # the last unacknowledged submit never reached the broker
            for order in self.broker.values():
                if not order.acked and not order.terminal:
                    order.received = False
        self._feed(ConnectionLost(reason="socket"))

    @precondition(lambda self: not self.connected)
    @rule()
    def reconnect_and_reconcile(self) -> None:
        self.connected = True
        received = [o for o in self.history if o.received]
        self._feed(ConnectionRestored(data_lost=True))
        self._feed(
            OpenOrdersSnapshot(
                orders=tuple(self._report(o, "Submitted") for o in received if not o.terminal)
            )
        )
        self._feed(
            CompletedOrdersSnapshot(
                orders=tuple(
                    self._report(o, "Cancelled")
                    for o in received
                    if o.terminal and o.filled < o.quantity
                )
            )
        )
        executions = tuple(
            self._execution(o, f"{base}.{rev:02d}", shares, price)
            for o in received
            for base, (rev, shares, price) in o.executions.items()
        )
        self._feed(ExecutionsSnapshot(executions=executions))
        for order in received:
            order.acked = True

    @rule(seconds=st.sampled_from([1, 30, 400]))
    def tick(self, seconds: int) -> None:
        self.sc.now = self.sc.now.__class__.fromtimestamp(
            self.sc.now.timestamp() + seconds, tz=self.sc.now.tzinfo
        )
        from ibguard.engine.events import Tick

        self._feed(Tick(now=self.sc.now))

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def fills_are_counted_once_and_exactly(self) -> None:
        for oms_id in self.broker:
            snapshot = self.sc.engine.order(oms_id)
            assert snapshot is not None
            counted = sum((o.filled for o in self.history if o.oms_id == oms_id), Decimal(0))
            assert snapshot.filled == counted, (oms_id, snapshot.filled, counted)
            assert snapshot.filled <= snapshot.quantity or snapshot.overfilled

    @invariant()
    def position_is_the_sum_of_own_fills(self) -> None:
        expected = sum((o.filled * o.side.sign for o in self.history), Decimal(0))
        assert self.sc.engine.position(AAPL) == expected

    @invariant()
    def terminal_states_absorb_all_but_fills(self) -> None:
        for snapshot in self.sc.engine.orders():
            before = self.terminal_seen.get(snapshot.oms_id)
            if before is not None:  # only a late fill may move a terminal order
                assert snapshot.status in (before, Status.FILLED), (snapshot.oms_id, before)
            if snapshot.status.is_terminal:
                self.terminal_seen[snapshot.oms_id] = snapshot.status


EngineAgainstBroker.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_random_event_orderings = EngineAgainstBroker.TestCase
