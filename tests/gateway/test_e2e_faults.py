"""End to end, faults: wire faults (drop, delay, duplicate, reorder) and broker faults
(rate limit, orderId reuse, account switch, clock skew, halts) as unmodified ib_async /
ib_insync clients see them."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.sim import BrokerConfig, HaltMode, SimBroker

from tests.support.scenarios import run

from .e2e_support import CLIENT_ID, CLIENTS, rig


@pytest.mark.parametrize("client", CLIENTS)
def test_duplicated_exec_details_on_the_wire_are_deduped_by_the_client(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            r.gateway.faults.duplicate_next(msg_id=Out.EXECUTION_DATA)
            trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 5))
            await r.until(trade.isDone)
            await r.settle()
            assert len(trade.fills) == 1
            assert r.gateway.faults.pending == 0

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_exec_details_before_open_order_still_build_one_fill(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            r.gateway.faults.reorder_next(msg_id=Out.EXECUTION_DATA)
            trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 5))
            await r.until(trade.isDone)
            await r.until(lambda: len(r.ib.fills()) == 1)
            assert r.ib.fills()[0].execution.shares == 5

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_delayed_fill_arrives_late_and_intact(client: str) -> None:
    async def scenario() -> float:
        async with rig(client) as r:
            r.gateway.faults.delay(0.3, msg_id=Out.EXECUTION_DATA)
            started = time.perf_counter()
            trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 5))
            await r.until(lambda: len(trade.fills) == 1)
            return time.perf_counter() - started

    assert run(scenario) >= 0.3


@pytest.mark.parametrize("client", CLIENTS)
def test_socket_dropped_mid_order_then_reconnect_finds_the_fill(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            gone = asyncio.Event()
            r.ib.disconnectedEvent += gone.set
            r.gateway.faults.drop_after(0, client_id=CLIENT_ID, msg_id=Out.EXECUTION_DATA)
            trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 5, orderRef="oms:d"))
            await asyncio.wait_for(gone.wait(), 2)
            assert trade.fills == []
            await r.ib.connectAsync("127.0.0.1", r.gateway.port, CLIENT_ID, timeout=3)
            fills = await r.ib.reqExecutionsAsync()
            assert [(f.execution.orderRef, f.execution.shares) for f in fills] == [("oms:d", 5)]

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_rate_limit_answers_error_100(client: str) -> None:
    broker = SimBroker(BrokerConfig(rate_limit_per_second=12))

    async def scenario() -> None:
        # connect itself sends about 7 paced requests; broker time stands still
        async with rig(client, broker) as r:
            for _ in range(10):
                r.ib.placeOrder(r.stock(), r.lib.LimitOrder("BUY", 1, 90))
            await r.until(lambda: any(code == 100 for _, code in r.errors))

    run(scenario)
    assert not all(rec.accepted for rec in broker.requests.placed())


@pytest.mark.parametrize("client", CLIENTS)
def test_reused_id_of_a_filled_order_after_restart_is_refused_with_104(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            first = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 1))
            await r.until(first.isDone)
            r.ib.disconnect()
            await asyncio.sleep(0.05)
            r.broker.force_next_order_id(CLIENT_ID, first.order.orderId)
            await r.ib.connectAsync("127.0.0.1", r.gateway.port, CLIENT_ID, timeout=3)
            # nextValidId said the old id; the clients spend ids on startup requests and
            # ib_insync refuses to re-place a done trade, so send the reused id directly
            # TWS takes it for a modify of the filled order: "Can't modify a filled order."
            r.ib.client.placeOrder(first.order.orderId, r.stock(), r.lib.MarketOrder("BUY", 1))
            await r.until(lambda: (first.order.orderId, 104) in r.errors)
            assert len(r.broker.orders()) == 1

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_switched_account_reaches_the_client(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            r.broker.switch_account("DU999")
            await r.until(lambda: r.ib.managedAccounts() == ["DU999"])

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_skewed_server_clock_shows_in_current_time(client: str) -> None:
    async def scenario() -> timedelta:
        async with rig(client) as r:
            before = await r.ib.reqCurrentTimeAsync()
            r.broker.advance(3600)
            after = await r.ib.reqCurrentTimeAsync()
            return after - before

    assert run(scenario) == timedelta(hours=1)


@pytest.mark.parametrize("client", CLIENTS)
def test_halted_symbol_without_fills_keeps_the_order_working(client: str) -> None:
    broker = SimBroker()
    broker.halt("AAPL", HaltMode.NO_FILL)

    async def scenario() -> None:
        async with rig(client, broker) as r:
            trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 5))
            await r.until(lambda: trade.orderStatus.status == "Submitted")
            await r.settle()
            assert trade.fills == []
            r.broker.resume("AAPL")
            await r.until(trade.isDone)

    run(scenario)
    assert broker.position("AAPL") == Decimal(5)
