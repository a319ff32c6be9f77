"""Orders as TWS checks them, end to end with ib_async and ib_insync (the official clients, 9.81
and 10.x: test_e2e_orders_ibapi.py, which shares CASES): each refusal answers the order's id
with TWS's error code and books nothing; a modify by orderId changes the live order, and the
modifies TWS refuses get its codes; brackets and OCA groups; execution and completed-order
times come in TWS's time zone. Codes and sources: docs/tws-order-errors.md."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim.clock import DEFAULT_START

from tests.support.scenarios import run

from .e2e_support import CLIENTS, rig
from .raw_client import RawClient, gateway

UNSET_DOUBLE = 1.7976931348623157e308  # IB's "no price": the clients send it empty


@dataclass(frozen=True)
class Case:
    """One order TWS refuses: the fields set on a plain BUY 10 LMT 100.00 DAY order."""

    name: str
    fields: dict[str, Any]
    code: int


CASES = [
    Case("zero-quantity", {"totalQuantity": 0}, 434),
    Case("negative-quantity", {"totalQuantity": -5}, 321),
    Case("price-off-the-tick", {"lmtPrice": 100.005}, 110),
    Case("negative-price", {"lmtPrice": -1.0}, 201),
    Case("unsupported-order-type", {"orderType": "FANCY"}, 387),
    Case("unsupported-tif", {"tif": "FOREVER"}, 321),
    Case("tif-incompatible-with-type", {"orderType": "STP", "auxPrice": 95.0, "tif": "OPG"}, 111),
    Case("e-trade-only", {"eTradeOnly": True}, 10268),
    Case("firm-quote-only", {"firmQuoteOnly": True}, 10269),
    Case("missing-limit-price", {"lmtPrice": UNSET_DOUBLE}, 107),
    Case("unmanaged-account", {"account": "DU999"}, 321),
    Case("not-a-number-price", {"lmtPrice": float("nan")}, 320),
]
ORDER_ID = 50


def _limit_order(lib: Any, case: Case) -> Any:
    order = lib.Order(action="BUY", totalQuantity=10, orderType="LMT", lmtPrice=100.0, tif="DAY")
    for name, value in case.fields.items():
        setattr(order, name, value)
    return order


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("client", CLIENTS)
def test_a_refused_order_gets_tws_error_code_and_is_never_booked(client: str, case: Case) -> None:
    broker = SimBroker(BrokerConfig(farm_status_messages=False))

    async def scenario() -> list[tuple[int, int]]:
        async with rig(client, broker) as r:
            r.ib.client.placeOrder(ORDER_ID, r.stock(), _limit_order(r.lib, case))
            await r.until(lambda: any(req == ORDER_ID for req, _ in r.errors))
            return r.errors

    errors = run(scenario)
    assert [code for req, code in errors if req == ORDER_ID] == [case.code]
    assert broker.orders() == ()


@pytest.mark.parametrize("client", CLIENTS)
def test_modify_by_order_id_changes_price_quantity_and_tif_and_refuses_what_tws_refuses(
    client: str,
) -> None:
    broker = SimBroker(BrokerConfig(farm_status_messages=False))

    async def scenario() -> list[tuple[int, int]]:
        async with rig(client, broker) as r:
            order = r.lib.LimitOrder("BUY", 10, 50.0)  # rests: the market is at 100
            trade = r.ib.placeOrder(r.stock(), order)
            await r.until(lambda: trade.orderStatus.status == "Submitted")
            order_id = order.orderId
            changed = r.lib.LimitOrder("BUY", 20, 51.5, tif="GTC")
            r.ib.client.placeOrder(order_id, r.stock(), changed)
            booked = broker.orders()[0]
            await r.until(lambda: booked.lmt_price == Decimal("51.5"))
            assert (booked.quantity, booked.tif, booked.status) == (Decimal(20), "GTC", "Submitted")
            broker.fill(booked.perm_id, Decimal(15), Decimal("51.5"))  # partly filled
            r.ib.client.placeOrder(order_id, r.stock(), r.lib.LimitOrder("SELL", 20, 51.5))
            r.ib.client.placeOrder(order_id, r.stock(), r.lib.LimitOrder("BUY", 10, 51.5))
            await r.until(lambda: len([e for e in r.errors if e[0] == order_id]) == 2)
            broker.fill(booked.perm_id, Decimal(5), Decimal("51.5"))  # now filled
            r.ib.client.placeOrder(order_id, r.stock(), r.lib.LimitOrder("BUY", 30, 52))
            await r.until(lambda: len([e for e in r.errors if e[0] == order_id]) == 3)
            assert (booked.quantity, booked.lmt_price) == (Decimal(20), Decimal("51.5"))
            return [e for e in r.errors if e[0] == order_id]

    # a different side: 105; below the filled quantity: 134; a filled order: 104
    assert [code for _, code in run(scenario)] == [105, 134, 104]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_modify_with_refused_terms_or_of_a_cancelled_order_gets_tws_codes(client: str) -> None:
    broker = SimBroker(BrokerConfig(farm_status_messages=False))

    async def scenario() -> list[int]:
        async with rig(client, broker) as r:
            trade = r.ib.placeOrder(r.stock(), r.lib.LimitOrder("BUY", 10, 50.0))
            await r.until(lambda: trade.orderStatus.status == "Submitted")
            order_id = trade.order.orderId
            r.ib.client.placeOrder(order_id, r.stock(), r.lib.LimitOrder("BUY", 0, 50.0))
            await r.until(lambda: (order_id, 434) in r.errors)  # as a new order would be
            r.ib.cancelOrder(trade.order)
            await r.until(lambda: trade.orderStatus.status == "Cancelled")
            r.ib.client.placeOrder(order_id, r.stock(), r.lib.LimitOrder("BUY", 10, 51.0))
            await r.until(lambda: len([e for e in r.errors if e[0] == order_id]) == 3)
            return [code for req, code in r.errors if req == order_id]

    assert run(scenario) == [434, 202, 103]  # refused terms; the cancel; a used id
    assert [(o.status, o.lmt_price) for o in broker.orders()] == [("Cancelled", Decimal(50))]


@pytest.mark.parametrize("client", CLIENTS)
def test_an_oca_group_cancelling_a_parent_and_a_missing_parent(client: str) -> None:
    """Two orders of one OCA group: one fills, the other is cancelled. A resting parent
    cancelled takes its child with it. A child of an order that does not exist: 10006."""
    broker = SimBroker(BrokerConfig(farm_status_messages=False))

    async def scenario() -> None:
        async with rig(client, broker) as r:
            lib = r.lib
            rests = r.ib.placeOrder(r.stock(), lib.LimitOrder("BUY", 10, 90.0, ocaGroup="g1"))
            fills = r.ib.placeOrder(r.stock(), lib.LimitOrder("BUY", 10, 110.0, ocaGroup="g1"))
            await r.until(lambda: rests.orderStatus.status == "Cancelled")
            assert fills.orderStatus.status == "Filled"
            parent = lib.LimitOrder("BUY", 10, 90.0, transmit=False)
            parent_trade = r.ib.placeOrder(r.stock(), parent)
            child = lib.LimitOrder("SELL", 10, 120.0, parentId=parent.orderId)
            child_trade = r.ib.placeOrder(r.stock(), child)
            await r.until(lambda: parent_trade.orderStatus.status == "Submitted")
            r.ib.cancelOrder(parent)
            await r.until(lambda: child_trade.orderStatus.status == "Cancelled")
            assert parent_trade.orderStatus.status == "Cancelled"
            orphan = r.ib.placeOrder(r.stock(), lib.LimitOrder("BUY", 1, 90.0, parentId=999))
            await r.until(lambda: (orphan.order.orderId, 10006) in r.errors)

    run(scenario)
    assert broker.position("AAPL") == Decimal(10)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_bracket_order_works_like_tws(client: str) -> None:
    """bracketOrder: the parent waits for the stop's transmit, fills; the children start
    working; the take-profit's fill cancels the stop (one OCA group)."""
    broker = SimBroker(BrokerConfig(farm_status_messages=False))

    async def scenario() -> list[str]:
        async with rig(client, broker) as r:
            parent, take_profit, stop_loss = r.ib.bracketOrder("BUY", 10, 100.0, 120.0, 80.0)
            trades = [
                r.ib.placeOrder(r.stock(), order) for order in (parent, take_profit, stop_loss)
            ]
            await r.until(lambda: trades[0].orderStatus.status == "Filled")
            await r.until(lambda: trades[1].orderStatus.status == "Submitted")
            assert trades[2].order.parentId == parent.orderId
            broker.set_price("AAPL", Decimal("121"))
            await r.until(lambda: trades[2].orderStatus.status == "Cancelled")
            return [t.orderStatus.status for t in trades]

    assert run(scenario) == ["Filled", "Filled", "Cancelled"]
    assert broker.position("AAPL") == 0


@pytest.mark.parametrize("client", CLIENTS)
def test_the_clients_read_the_execution_time_as_the_brokers_moment(client: str) -> None:
    """Both parse TWS's `yyyymmdd hh:mm:ss <zone>` (their completed-order Trade keeps no
    completedTime: the wire form is checked below)."""

    async def scenario() -> Any:
        async with rig(client) as r:
            trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 1))
            await r.until(lambda: len(trade.fills) == 1)
            return trade.fills[0].execution.time

    assert run(scenario) == DEFAULT_START


def test_execution_and_completed_order_times_are_in_tws_time_zone() -> None:
    async def scenario() -> tuple[str, str]:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            await client.start(4)
            client.place(1, "AAPL", "BUY", 1)
            frames = await client.until(11)
            client.send("99", "0")  # reqCompletedOrders
            completed = await client.until(102)
            client.close()
            (done,) = [f for f in completed if f[0] == "101"]
            return frames[-1][15], done[-7 if client.version >= 170 else -2]

    exec_time, completed_time = run(scenario)
    assert exec_time.endswith(" US/Eastern")
    assert exec_time == "20240102 09:30:00 US/Eastern"  # DEFAULT_START, 14:30 UTC
    assert completed_time == "20240102 09:30:00 US/Eastern"
