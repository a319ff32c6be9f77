"""End to end, orders: unmodified ib_async / ib_insync clients place, fill, cancel and get
rejected through the gateway, then read executions, positions and completed orders back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ibguard.kit.sim import FillPlan, HaltMode, RejectOrder, SimBroker

from tests.support.scenarios import run

from .e2e_support import CLIENT_ID, CLIENTS, rig

D = Decimal


@pytest.mark.parametrize("client", CLIENTS)
def test_market_order_fills_in_full_with_execution_and_commission(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            commissions: list[object] = []
            r.ib.commissionReportEvent += lambda trade, fill, report: commissions.append(report)
            trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 10, orderRef="oms:m1"))
            await r.until(lambda: trade.isDone() and len(commissions) == 1)
            assert trade.orderStatus.status == "Filled"
            assert (trade.orderStatus.filled, trade.orderStatus.avgFillPrice) == (10, 100)
            (fill,) = trade.fills
            assert fill.execution.side == "BOT"
            assert fill.execution.permId == trade.order.permId != 0
            assert fill.commissionReport.commission == 1.0
            await r.until(lambda: [p.position for p in r.ib.positions()] == [10])

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_limit_order_rests_then_fills_when_the_price_comes(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            trade = r.ib.placeOrder(r.stock(), r.lib.LimitOrder("BUY", 5, 99.5))
            await r.until(lambda: trade.orderStatus.status == "Submitted")
            await r.settle()
            assert trade.fills == []
            r.broker.set_price("AAPL", D("99.40"))
            await r.until(trade.isDone)
            assert trade.orderStatus.status == "Filled"
            assert trade.fills[0].execution.price == pytest.approx(99.4)

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_partial_fills_then_cancel_of_the_rest(client: str) -> None:
    broker = SimBroker()
    broker.script.arm(FillPlan(fills=((D(30), D("100.10")), (D(20), D("100.20")))))

    async def scenario() -> None:
        async with rig(client, broker) as r:
            trade = r.ib.placeOrder(r.stock(), r.lib.LimitOrder("BUY", 100, 101))
            await r.until(lambda: len(trade.fills) == 2)
            await r.until(lambda: trade.orderStatus.filled == 50)
            assert trade.orderStatus.status == "Submitted"
            assert trade.orderStatus.remaining == 50
            assert trade.orderStatus.avgFillPrice == pytest.approx(100.14)
            r.ib.cancelOrder(trade.order)
            await r.until(trade.isDone)
            assert trade.orderStatus.status == "Cancelled"
            assert trade.orderStatus.filled == 50

    run(scenario)
    assert broker.position("AAPL") == D(50)
    assert len(broker.requests.cancels(client_id=CLIENT_ID)) == 1


@pytest.mark.parametrize("client", CLIENTS)
def test_cancel_of_a_resting_order(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            trade = r.ib.placeOrder(r.stock(), r.lib.LimitOrder("SELL", 5, 120))
            await r.until(lambda: trade.orderStatus.status == "Submitted")
            r.ib.cancelOrder(trade.order)
            await r.until(trade.isDone)
            assert trade.orderStatus.status == "Cancelled"
            assert (trade.order.orderId, 202) in r.errors

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("cause", ["script", "halt"])
def test_rejected_order_ends_inactive_with_the_broker_code(client: str, cause: str) -> None:
    broker = SimBroker()
    if cause == "script":
        broker.script.arm(RejectOrder(code=203, text="The security is not available"))
    else:
        broker.halt("AAPL", HaltMode.REJECT)
    code = 203 if cause == "script" else 201

    async def scenario() -> None:
        async with rig(client, broker) as r:
            trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 1))
            await r.until(lambda: (trade.order.orderId, code) in r.errors)
            # The error cancels the trade client-side, then orderStatus Inactive arrives;
            # ib_insync does not count Inactive as done, ib_async does.
            await r.until(lambda: trade.orderStatus.status == "Inactive")
            assert trade.fills == []

    run(scenario)
    assert broker.position("AAPL") == 0


@pytest.mark.parametrize("client", CLIENTS)
def test_executions_positions_and_completed_orders_read_back(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            buy = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 10, orderRef="oms:b"))
            sell = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("SELL", 4, orderRef="oms:s"))
            await r.until(lambda: buy.isDone() and sell.isDone())
            fills = await r.ib.reqExecutionsAsync()
            assert sorted((f.execution.side, f.execution.shares) for f in fills) == [
                ("BOT", 10),
                ("SLD", 4),
            ]
            # Snapshot fills of executions the client already knows carry an empty
            # commission (client behaviour); the live fills got theirs.
            assert all(f.commissionReport.commission > 0 for f in r.ib.fills())
            await r.until(lambda: [p.position for p in r.ib.positions()] == [6])
            done = await r.ib.reqCompletedOrdersAsync(apiOnly=True)
            assert sorted((t.order.orderRef, t.orderStatus.status) for t in done) == [
                ("oms:b", "Filled"),
                ("oms:s", "Filled"),
            ]

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_global_cancel_cancels_every_working_order(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            trades = [r.ib.placeOrder(r.stock(), r.lib.LimitOrder("BUY", 1, 90)) for _ in range(3)]
            await r.until(lambda: all(t.orderStatus.status == "Submitted" for t in trades))
            r.ib.reqGlobalCancel()
            await r.until(lambda: all(t.isDone() for t in trades))
            assert {t.orderStatus.status for t in trades} == {"Cancelled"}

    run(scenario)
