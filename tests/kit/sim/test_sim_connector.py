"""SimConnector: engine commands in, engine events out, over a SimBroker session."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from ibguard.engine import events as ev
from ibguard.engine.commands import (
    CancelOrder,
    PlaceOrder,
    RequestCompletedOrders,
    RequestExecutions,
    RequestOpenOrders,
    RequestPositions,
    RequestServerTime,
    RequestWhatIf,
)
from ibguard.engine.model import Instrument, OrderRequest, OrderType, Side
from ibguard.kit.sim import (
    NOT_CONNECTED,
    BrokerConfig,
    DropConnection,
    SimBroker,
    SimConnector,
    WhatIfAnswer,
)

D = Decimal
AAPL = Instrument(symbol="AAPL")
ACCOUNT = "DU1234567"


class Events(list[ev.BrokerEvent]):
    def of(self, kind: type[ev.BrokerEvent]) -> list[ev.BrokerEvent]:
        return [e for e in self if isinstance(e, kind)]

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self]


@pytest.fixture
def broker() -> SimBroker:
    return SimBroker(BrokerConfig(farm_status_messages=False))


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def conn(broker: SimBroker, events: Events) -> SimConnector:
    connector = SimConnector(broker, client_id=7)
    connector.start(events.append)
    return connector


def place(order_id: int, qty: int = 10, price: str | None = None, ref: str = "ibg:A") -> PlaceOrder:
    request = OrderRequest(
        instrument=AAPL,
        side=Side.BUY,
        quantity=D(qty),
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        limit_price=D(price) if price else None,
    )
    return PlaceOrder(
        oms_id="A", order_id=order_id, order_ref=ref, account=ACCOUNT, request=request
    )


def test_start_reports_accounts_and_next_valid_id_then_connected(
    events: Events, conn: SimConnector
) -> None:
    assert events == [
        ev.ManagedAccounts(accounts=(ACCOUNT,)),
        ev.NextValidId(order_id=1),
        ev.ConnectionRestored(data_lost=True, client_id=7),
    ]
    assert conn.connected


def test_market_order_becomes_reports_execution_and_commission(
    events: Events, conn: SimConnector
) -> None:
    events.clear()
    conn.send(place(1))
    assert events.kinds() == [
        "OpenOrderReport",
        "OrderStatusReport",
        "OpenOrderReport",
        "OrderStatusReport",
        "ExecutionReport",
        "CommissionReport",
    ]
    (execution,) = events.of(ev.ExecutionReport)
    assert isinstance(execution, ev.ExecutionReport)
    assert (execution.order_ref, execution.side, execution.shares) == ("ibg:A", Side.BUY, D(10))
    assert execution.instrument.symbol == "AAPL"
    assert execution.instrument.con_id > 0
    assert execution.time.utcoffset() == timedelta(0)


def test_open_orders_request_is_one_snapshot_with_fill_state(
    broker: SimBroker, events: Events, conn: SimConnector
) -> None:
    conn.send(place(1, qty=10, price="99"))
    broker.fill(broker.live_orders()[0].perm_id, D(4), D(99))
    events.clear()
    conn.send(RequestOpenOrders())
    (snapshot,) = events
    assert isinstance(snapshot, ev.OpenOrdersSnapshot)
    (report,) = snapshot.orders
    assert (report.status, report.filled, report.remaining) == ("Submitted", D(4), D(6))
    assert report.limit_price == D(99)


def test_completed_orders_request_is_one_snapshot(events: Events, conn: SimConnector) -> None:
    conn.send(place(1))
    events.clear()
    conn.send(RequestCompletedOrders())
    (snapshot,) = events
    assert isinstance(snapshot, ev.CompletedOrdersSnapshot)
    assert [(o.order_ref, o.status, o.filled) for o in snapshot.orders] == [
        ("ibg:A", "Filled", D(10))
    ]
    assert snapshot.orders[0].time is not None


def test_executions_request_pairs_executions_with_commissions(
    events: Events, conn: SimConnector
) -> None:
    conn.send(place(1))
    conn.send(place(2))
    events.clear()
    conn.send(RequestExecutions())
    (snapshot,) = events
    assert isinstance(snapshot, ev.ExecutionsSnapshot)
    assert len(snapshot.executions) == 2
    assert [c.exec_id for c in snapshot.commissions] == [e.exec_id for e in snapshot.executions]


def test_positions_request_is_one_snapshot(events: Events, conn: SimConnector) -> None:
    conn.send(place(1, qty=25))
    events.clear()
    conn.send(RequestPositions())
    (snapshot,) = events
    assert isinstance(snapshot, ev.PositionsSnapshot)
    assert [(p.account, p.instrument.symbol, p.quantity) for p in snapshot.positions] == [
        (ACCOUNT, "AAPL", D(25))
    ]


def test_server_time_pairs_broker_and_local_time_with_the_skew(
    broker: SimBroker, events: Events, conn: SimConnector
) -> None:
    broker.clock.set_skew(D("47.3"))
    events.clear()
    conn.send(RequestServerTime())
    (answer,) = events
    assert isinstance(answer, ev.ServerTime)
    assert answer.broker_time - answer.local_time == timedelta(seconds=47.3)


@pytest.mark.parametrize("ok", [True, False])
def test_what_if_batch_answers_one_result(
    broker: SimBroker, events: Events, conn: SimConnector, ok: bool
) -> None:
    broker.set_what_if(WhatIfAnswer(margin_ok=ok))
    orders = tuple(place(i).request for i in range(3))
    events.clear()
    conn.send(RequestWhatIf(request_id=42, account=ACCOUNT, orders=orders))
    (result,) = events
    assert isinstance(result, ev.WhatIfResult)
    assert (result.request_id, result.margin_ok) == (42, ok)
    assert broker.orders() == ()


def test_cancel_reports_202_then_cancelled(events: Events, conn: SimConnector) -> None:
    conn.send(place(1, price="50"))
    events.clear()
    conn.send(CancelOrder(oms_id="A", order_id=1, perm_id=None))
    error, status = events
    assert isinstance(error, ev.BrokerError)
    assert (error.req_id, error.code) == (1, 202)
    assert isinstance(status, ev.OrderStatusReport)
    assert status.status == "Cancelled"


def test_drop_then_commands_do_not_reach_the_broker_until_reconnect(
    broker: SimBroker, events: Events, conn: SimConnector
) -> None:
    broker.script.arm(DropConnection(received=True))
    events.clear()
    conn.send(place(1, price="50"))
    assert events == [ev.ConnectionLost(reason="dropped after the broker received placeOrder")]
    conn.send(place(2, price="50"))
    assert events[-1] == ev.BrokerError(req_id=2, code=NOT_CONNECTED, message="Not connected")
    assert [r.order_id for r in broker.requests.placed()] == [1]
    assert len(conn.refused) == 1
    events.clear()
    conn.reconnect()
    assert events == [
        ev.ManagedAccounts(accounts=(ACCOUNT,)),
        ev.NextValidId(order_id=2),
        ev.ConnectionRestored(data_lost=True, client_id=7),
    ]
    events.clear()
    conn.send(RequestOpenOrders())
    (snapshot,) = events
    assert isinstance(snapshot, ev.OpenOrdersSnapshot)
    assert [o.order_ref for o in snapshot.orders] == ["ibg:A"]


def test_duplicate_client_id_at_start_is_an_error_not_a_connection(broker: SimBroker) -> None:
    broker.connect(7, lambda m: None)
    events = Events()
    conn = SimConnector(broker, client_id=7)
    conn.start(events.append)
    assert events == [
        ev.BrokerError(
            req_id=-1,
            code=326,
            message="Unable to connect as the client id is already in use. "
            "Retry with a unique client id.",
        )
    ]
    assert not conn.connected


def test_contract_details_name_the_previous_symbol(
    broker: SimBroker, events: Events, conn: SimConnector
) -> None:
    listing = broker.contracts.resolve("IBM")
    assert listing is not None
    broker.rename_contract("IBM", "IBM2")
    events.clear()
    conn.request_contract_details(Instrument(symbol="IBM", con_id=listing.contract.conId))
    (details,) = events
    assert isinstance(details, ev.ContractDetails)
    assert (details.instrument.symbol, details.previous_symbol) == ("IBM2", "IBM")


def test_commands_sent_from_the_event_handler_are_answered_in_order(broker: SimBroker) -> None:
    seen = Events()
    conn = SimConnector(broker, client_id=7)

    def handler(event: ev.BrokerEvent) -> None:
        seen.append(event)
        if isinstance(event, ev.ExecutionReport):
            conn.send(RequestPositions())

    conn.start(handler)
    seen.clear()
    conn.send(place(1))
    assert seen.kinds()[-3:] == ["ExecutionReport", "CommissionReport", "PositionsSnapshot"]


def test_live_fill_outside_a_request_is_not_swallowed_by_snapshots(
    broker: SimBroker, events: Events, conn: SimConnector
) -> None:
    conn.send(place(1, price="50"))
    conn.send(RequestExecutions())
    events.clear()
    broker.fill(broker.live_orders()[0].perm_id, D(10), D(50))
    assert "ExecutionReport" in events.kinds()


def test_a_broker_order_the_engine_cannot_represent_is_logged_and_skipped(
    broker: SimBroker, events: Events, conn: SimConnector, caplog: pytest.LogCaptureFixture
) -> None:
    events.clear()
    broker.inject_order(
        client_id=0,
        symbol="AAPL",
        action="SELL",
        quantity=Decimal(10),
        order_type="STP",  # a manual stop order: not a type the engine models
        broadcast=True,
    )
    assert events.of(ev.OpenOrderReport) == []
    codes = [getattr(r, "code", None) for r in caplog.records]
    assert any(getattr(c, "value", c) == "EVENT_REJECTED" for c in codes)
