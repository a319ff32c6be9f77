"""IBConnector end to end: the real ib_async / ib_insync client under the connector,
against the fake TWS gateway on 127.0.0.1 fronting a SimBroker."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from ibguard.engine.commands import (
    CancelOrder,
    PlaceOrder,
    RequestCompletedOrders,
    RequestContractDetails,
    RequestExecutions,
    RequestOpenOrders,
    RequestPositions,
    RequestServerTime,
    RequestWhatIf,
)
from ibguard.engine.connector.ib import IBConnector, SessionState
from ibguard.engine.connector.reconnect import Backoff
from ibguard.engine.errors import UsageError
from ibguard.engine.events import (
    BrokerError,
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
    OrderStatusReport,
    PositionsSnapshot,
    ServerTime,
    WhatIfResult,
)
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Instrument, OrderRequest, OrderType, Side
from ibguard.kit.sim import FillPlan, SimBroker, WhatIfAnswer

from tests.support.scenarios import run, until

from .support import CLIENT_ID, CLIENTS, LOCAL_NOW, FixedClock, Rig, library, rig

D = Decimal
AAPL = Instrument(symbol="AAPL")


def _limit(qty: int = 100, price: str = "101") -> OrderRequest:
    return OrderRequest(instrument=AAPL, side=Side.BUY, quantity=D(qty), limit_price=D(price))


def _place(r: Rig, oms_id: str, request: OrderRequest, order_id: int | None = None) -> int:
    (first,) = r.of(NextValidId)
    order_id = order_id if order_id is not None else first.order_id
    (accounts,) = r.of(ManagedAccounts)
    r.connector.send(
        PlaceOrder(
            oms_id=oms_id,
            order_id=order_id,
            order_ref=f"ns:{oms_id}",
            account=accounts.accounts[0],
            request=request,
        )
    )
    return order_id


@pytest.mark.parametrize("client", CLIENTS)
def test_connect_announces_ids_and_accounts_then_restored(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            session = [e for e in r.events if not isinstance(e, BrokerError)]  # 2104... notes
            assert [type(e) for e in session] == [ManagedAccounts, NextValidId, ConnectionRestored]
            assert session[-1] == ConnectionRestored(data_lost=True, client_id=CLIENT_ID)
            assert r.connector.state is SessionState.CONNECTED

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_partial_fills_then_cancel_arrive_as_engine_events(client: str) -> None:
    broker = SimBroker()
    broker.script.arm(FillPlan(fills=((D(30), D("100.10")), (D(20), D("100.20")))))

    async def scenario() -> None:
        async with rig(client, broker) as r:
            order_id = _place(r, "p1", _limit())
            await until(lambda: len(r.of(CommissionReport)) == 2)
            r.connector.send(CancelOrder(oms_id="p1", order_id=order_id, perm_id=None))
            await until(lambda: any(s.status == "Cancelled" for s in r.of(OrderStatusReport)))
            execs = r.of(ExecutionReport)
            assert [(e.shares, e.price, e.order_ref) for e in execs] == [
                (D(30), D("100.10"), "ns:p1"),
                (D(20), D("100.20"), "ns:p1"),
            ]
            assert all(e.time.tzinfo is not None and e.order_id == order_id for e in execs)
            last = r.of(OrderStatusReport)[-1]
            assert (last.status, last.filled, last.remaining) == ("Cancelled", D(50), D(0))
            assert r.of(OpenOrderReport)[0].limit_price == D(101)

    run(scenario)
    assert broker.position("AAPL") == D(50)
    assert len(broker.requests.cancels(client_id=CLIENT_ID)) == 1


@pytest.mark.parametrize("client", CLIENTS)
def test_every_request_is_answered_by_its_snapshot_event(client: str) -> None:
    broker = SimBroker()
    broker.set_what_if(WhatIfAnswer(margin_ok=False))

    async def scenario() -> None:
        async with rig(client, broker) as r:
            _place(
                r,
                "m1",
                OrderRequest(
                    instrument=AAPL, side=Side.BUY, quantity=D(10), order_type=OrderType.MARKET
                ),
            )
            _place(r, "w1", _limit(5, "90"), order_id=r.of(NextValidId)[0].order_id + 1)
            await until(lambda: len(r.of(CommissionReport)) == 1)
            account = r.of(ManagedAccounts)[0].accounts[0]
            del r.events[:]
            for command in (
                RequestOpenOrders(),
                RequestCompletedOrders(),
                RequestExecutions(),
                RequestPositions(),
                RequestServerTime(),
                RequestContractDetails(instrument=AAPL),
                RequestWhatIf(request_id=5, account=account, orders=(_limit(),)),
            ):
                r.connector.send(command)
            await until(lambda: len(r.of(WhatIfResult)) == 1)
            (open_orders,) = r.of(OpenOrdersSnapshot)
            assert [(o.order_ref, o.status) for o in open_orders.orders] == [("ns:w1", "Submitted")]
            (completed,) = r.of(CompletedOrdersSnapshot)
            assert [(o.order_ref, o.status) for o in completed.orders] == [("ns:m1", "Filled")]
            (executions,) = r.of(ExecutionsSnapshot)
            assert [e.shares for e in executions.executions] == [D(10)]
            assert [c.commission for c in executions.commissions] == [D(1)]
            (positions,) = r.of(PositionsSnapshot)
            assert [p.quantity for p in positions.positions] == [D(10)]
            (server_time,) = r.of(ServerTime)
            assert server_time.broker_time == broker.clock.broker_now()
            assert server_time.local_time == LOCAL_NOW
            (details,) = r.of(ContractDetails)
            assert (details.instrument.symbol, details.previous_symbol) == ("AAPL", None)
            (what_if,) = r.of(WhatIfResult)
            assert (what_if.request_id, what_if.margin_ok) == (5, False)
            assert len(broker.orders()) == 2  # the what-if placed nothing

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_drop_then_reconnect_with_backoff(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            r.broker.drop(CLIENT_ID)
            await until(lambda: len(r.of(ConnectionRestored)) == 2)
            lost = r.events.index(r.of(ConnectionLost)[0])
            after = [type(e) for e in r.events[lost:] if not isinstance(e, BrokerError)]
            assert after == [ConnectionLost, ManagedAccounts, NextValidId, ConnectionRestored]
            assert r.sleeps.delays == [0.01]
            assert r.connector.connected

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_client_id_in_use_is_reported_and_never_retried(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            events: list[object] = []
            second = IBConnector(
                "127.0.0.1",
                r.gateway.port,
                CLIENT_ID,
                clock=FixedClock(),
                library=library(client),
                connect_timeout=3,
            )
            second.start(events.append)
            assert await asyncio.wait_for(second.wait_stopped(), 5) is SessionState.REFUSED
            assert [e for e in events if isinstance(e, BrokerError)][-1].code == 326
            assert not any(isinstance(e, ConnectionRestored) for e in events)
            second.stop()  # the engine halts and stops it: nothing more happens
            assert second.state is SessionState.REFUSED
            assert r.connector.connected  # the first session lives on

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_stop_ends_a_connector_that_keeps_retrying_a_closed_port(
    client: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with rig(client, backoff=Backoff(initial=0.01, maximum=0.02), start=False) as r:
            port = r.gateway.port
            await r.gateway.stop()
            r.connector.port = port
            r.connector.start(r.events.append)
            await until(lambda: len(r.sleeps.delays) > 25)  # past the old give-up at 20
            assert r.connector.state is SessionState.CONNECTING
            assert max(r.sleeps.delays) <= 0.02
            r.connector.stop()
            assert await r.connector.wait_stopped() is SessionState.STOPPED
            assert r.events == []

    run(scenario)
    codes = [getattr(rec, "code", None) for rec in caplog.records if rec.name.startswith("ibguard")]
    assert codes.count(LogCode.CONNECTION_LOST) > 25


@pytest.mark.parametrize("client", CLIENTS)
def test_stop_ends_the_session_and_later_commands_are_refused(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            r.connector.stop()
            assert await r.connector.wait_stopped() is SessionState.STOPPED
            await asyncio.sleep(0.05)
            r.connector.send(RequestServerTime())
            r.connector.send(CancelOrder(oms_id="x", order_id=4, perm_id=None))
            assert r.events[-2:] == [
                BrokerError(req_id=-1, code=504, message="Not connected"),
                BrokerError(req_id=4, code=504, message="Not connected"),
            ]
            assert not any(isinstance(e, ConnectionLost) for e in r.events)
            r.connector.stop()  # idempotent

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_send_that_hits_a_dead_socket_is_refused(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:

            def dead(*args: object) -> None:
                raise ConnectionError("Not connected")

            r.connector.ib.client.reqCurrentTime = dead
            r.connector.send(RequestServerTime())
            assert r.events[-1] == BrokerError(req_id=-1, code=504, message="Not connected")

    run(scenario)


def test_open_orders_of_this_client_only() -> None:
    async def scenario() -> None:
        async with rig("ib_async") as r:
            r.connector.all_open_orders = False
            r.connector.send(RequestOpenOrders())
            await until(lambda: len(r.of(OpenOrdersSnapshot)) == 1)

    run(scenario)


def test_start_needs_a_loop_and_happens_once() -> None:
    connector = IBConnector("127.0.0.1", 1, 7, clock=FixedClock(), library=library("ib_async"))
    with pytest.raises(UsageError):
        connector.start(lambda e: None)

    async def twice() -> None:
        with pytest.raises(UsageError):
            await connector.wait_stopped()
        connector.start(lambda e: None)
        with pytest.raises(UsageError):
            connector.start(lambda e: None)
        connector.stop()
        assert await connector.wait_stopped() is SessionState.STOPPED

    run(twice)


def test_a_tws_time_zone_that_is_no_iana_zone_is_refused_at_construction() -> None:
    with pytest.raises(UsageError, match="'Eastern' is not an IANA time zone"):
        IBConnector(
            "127.0.0.1",
            1,
            7,
            clock=FixedClock(),
            library=library("ib_async"),
            tws_time_zone="Eastern",
        )


def test_stop_before_start_and_a_stray_disconnect_event() -> None:
    connector = IBConnector("127.0.0.1", 1, 7, clock=FixedClock(), library=library("ib_async"))
    connector.ib.disconnectedEvent.emit()  # not connected: nothing to report
    connector.send(RequestServerTime())  # no handler yet: dropped
    connector.stop()
    assert connector.state is SessionState.STOPPED


@pytest.mark.parametrize("when", ["waiting", "connecting", "refused while connecting"])
def test_stop_ends_the_supervisor_wherever_it_is(when: str) -> None:
    async def scenario() -> None:
        connector: IBConnector

        async def wait(_: float) -> None:
            if when == "waiting":
                connector.stop()  # an operator stops the service during the backoff

        async def connect(*_: object) -> None:
            if when == "waiting":
                raise ConnectionRefusedError("broker down")
            connector.stop()
            task = asyncio.current_task()
            assert task is not None
            if when == "connecting":
                task.uncancel()  # the library swallowed our cancel and carried on
                return
            raise ConnectionRefusedError("the cancel came back as the connect's error")

        connector = IBConnector(
            "127.0.0.1", 1, 7, clock=FixedClock(), library=library("ib_async"), sleep=wait
        )
        connector.ib.client.connectAsync = connect
        connector.start(lambda e: None)
        assert await asyncio.wait_for(connector.wait_stopped(), 5) is SessionState.STOPPED

    run(scenario)
