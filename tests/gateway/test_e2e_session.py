"""End to end, session level: unmodified ib_async / ib_insync clients against the gateway
over a real loopback socket (connect, clock, contracts, what-if, clientIds, reconnect)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim import BrokerConfig, SimBroker, WhatIfAnswer

from tests.support.scenarios import run

from .e2e_support import CLIENT_ID, CLIENTS, client_module, connect, rig

# A missing end message costs a client its 4 s timeout; a healthy connect takes milliseconds.
FAST_CONNECT_SECONDS = 1.0


@pytest.mark.parametrize("client", CLIENTS)
def test_connect_completes_fast_and_runs_the_startup_sync(client: str) -> None:
    lib = client_module(client)
    broker = SimBroker()

    async def scenario() -> float:
        async with Gateway(broker) as gateway:
            started = time.perf_counter()
            ib = await connect(lib, gateway.port, timeout=4)
            elapsed = time.perf_counter() - started
            assert ib.isConnected()
            assert ib.managedAccounts() == ["DU1234567"]
            assert ib.client.getReqId() >= 1
            ib.disconnect()
            return elapsed

    assert run(scenario) < FAST_CONNECT_SECONDS
    asked = {r.request for r in broker.requests}
    assert {
        "startApi",
        "reqPositions",
        "reqOpenOrders",
        "reqCompletedOrders",
        "reqAccountUpdates",
        "reqExecutions",
    } <= asked


@pytest.mark.parametrize("client", CLIENTS)
def test_connect_with_two_accounts_waits_for_account_update_multi_ends(client: str) -> None:
    broker = SimBroker(BrokerConfig(accounts=("DU111", "DU222")))

    async def scenario() -> list[str]:
        started = time.perf_counter()
        async with rig(client, broker) as r:
            assert time.perf_counter() - started < FAST_CONNECT_SECONDS
            accounts: list[str] = r.ib.managedAccounts()
            return accounts

    assert run(scenario) == ["DU111", "DU222"]
    assert len(broker.requests.of("reqAccountUpdatesMulti")) == 2


@pytest.mark.parametrize("client", CLIENTS)
def test_client_id_zero_binds_manual_orders(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, client_id=0) as r:
            assert r.broker.session(0).auto_bind
            r.broker.inject_order(
                client_id=0, symbol="MSFT", action="BUY", quantity=Decimal(3), lmt_price=None
            )
            await r.until(lambda: len(r.ib.openTrades()) == 1)

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_req_current_time_is_broker_time(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            r.broker.advance(90)
            now = await r.ib.reqCurrentTimeAsync()
            assert now == r.broker.clock.broker_now()
            assert now - r.broker.config.start == timedelta(seconds=90)

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_qualify_contracts_fills_in_the_con_id_and_unknown_ones_stay_unqualified(
    client: str,
) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            (aapl,) = await r.ib.qualifyContractsAsync(r.stock("AAPL"))
            assert aapl.conId == r.broker.contracts.resolve("AAPL").contract.conId  # type: ignore[union-attr]
            assert (aapl.conId, aapl.primaryExchange) == (265598, "NASDAQ")  # IB's listing
            details = await r.ib.reqContractDetailsAsync(r.stock("AAPL"))
            assert [d.contract.conId for d in details] == [aapl.conId]
            r.broker.rename_contract("IBM", "IBM2")
            assert await r.ib.qualifyContractsAsync(r.stock("IBM")) in ([], [None])
            assert any(code == 200 for _, code in r.errors)

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("margin_ok", [True, False])
def test_what_if_order_answers_margins_and_places_nothing(client: str, margin_ok: bool) -> None:
    broker = SimBroker()
    broker.set_what_if(WhatIfAnswer(margin_ok=margin_ok))

    async def scenario() -> None:
        async with rig(client, broker) as r:
            order = r.lib.MarketOrder("BUY", 100)
            state = await r.ib.whatIfOrderAsync(r.stock(), order)
            assert float(state.initMarginAfter) > 0
            assert float(state.equityWithLoanAfter) == 1_000_000
            assert ("INSUFFICIENT MARGIN" in state.warningText) is not margin_ok
            assert r.ib.openTrades() == []

    run(scenario)
    assert broker.requests.placed() == ()
    assert broker.orders() == ()


@pytest.mark.parametrize("client", CLIENTS)
def test_duplicate_client_id_gets_326_and_the_first_session_lives_on(client: str) -> None:
    lib = client_module(client)

    async def scenario() -> None:
        async with rig(client) as r:
            second = lib.IB()
            codes: list[int] = []
            second.errorEvent += lambda req_id, code, *rest: codes.append(code)
            # The clients wait for an API start that never comes, then give up.
            with pytest.raises((ConnectionError, TimeoutError, asyncio.TimeoutError)):
                await second.connectAsync("127.0.0.1", r.gateway.port, CLIENT_ID, timeout=0.5)
            assert codes == [326]
            assert not second.isConnected()
            assert r.ib.isConnected()
            assert [c.client_id for c in r.gateway.connections()] == [CLIENT_ID]
            now = await r.ib.reqCurrentTimeAsync()
            assert now == r.broker.clock.broker_now()

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_several_clients_at_once_each_hear_only_their_orders(client: str) -> None:
    lib = client_module(client)

    async def scenario() -> None:
        async with rig(client) as r:
            others = [await connect(lib, r.gateway.port, cid) for cid in (8, 9)]
            for ib in (r.ib, *others):
                ib.placeOrder(r.stock(), lib.MarketOrder("BUY", 1))
            await r.until(lambda: all(len(ib.fills()) == 1 for ib in (r.ib, *others)))
            await r.settle()
            assert [len(ib.trades()) for ib in (r.ib, *others)] == [1, 1, 1]
            assert r.broker.position("AAPL") == Decimal(3)
            for ib in others:
                ib.disconnect()

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_reconnect_after_a_dropped_socket_recovers_the_order_by_perm_id(client: str) -> None:
    lib = client_module(client)

    async def scenario() -> None:
        async with rig(client) as r:
            trade = r.ib.placeOrder(r.stock(), lib.LimitOrder("BUY", 10, 99, orderRef="oms:1"))
            await r.until(lambda: trade.orderStatus.status == "Submitted")
            perm_id = trade.order.permId
            gone = asyncio.Event()
            r.ib.disconnectedEvent += gone.set
            r.broker.drop(CLIENT_ID)
            await asyncio.wait_for(gone.wait(), 2)
            assert not r.ib.isConnected()
            with pytest.raises(ConnectionError):
                r.ib.placeOrder(r.stock(), lib.MarketOrder("BUY", 1))
            await r.ib.connectAsync("127.0.0.1", r.gateway.port, CLIENT_ID, timeout=3)
            (recovered,) = r.ib.openTrades()
            assert (recovered.order.permId, recovered.order.orderRef) == (perm_id, "oms:1")
            assert recovered.orderStatus.status == "Submitted"

    run(scenario)
    # reconnect stays fast: nothing waited out a timeout


@pytest.mark.parametrize("client", CLIENTS)
def test_reconnect_after_a_dropped_socket_is_fast(client: str) -> None:
    async def scenario() -> float:
        async with rig(client) as r:
            gone = asyncio.Event()
            r.ib.disconnectedEvent += gone.set
            r.broker.drop(CLIENT_ID)
            await asyncio.wait_for(gone.wait(), 2)
            started = time.perf_counter()
            await r.ib.connectAsync("127.0.0.1", r.gateway.port, CLIENT_ID, timeout=4)
            return time.perf_counter() - started

    assert run(scenario) < FAST_CONNECT_SECONDS
