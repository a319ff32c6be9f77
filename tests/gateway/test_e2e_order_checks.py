"""Orders as TWS checks them, end to end with ib_async, ib_insync and IBKR's official `ibapi`
(9.81, EClient/EWrapper): each refusal answers the order's id with TWS's error code and books
nothing; a modify by orderId changes the live order; execution and completed-order times
come in TWS's time zone. Codes and sources: docs/tws-order-errors.md."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from ibguard.kit.gateway.thread_host import GatewayThread
from ibguard.kit.sim import BrokerConfig, SimBroker

from tests.support.scenarios import run

from .e2e_support import CLIENTS, rig
from .raw_client import RawClient, gateway


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


# --- the official client ----------------------------------------------------------------

ibapi = pytest.importorskip("ibapi")
from ibapi.client import EClient  # noqa: E402 - after the importorskip
from ibapi.contract import Contract  # noqa: E402
from ibapi.order import Order  # noqa: E402
from ibapi.wrapper import EWrapper  # noqa: E402


class Official(EWrapper, EClient):
    """ibapi's EClient/EWrapper, recording errors and the first nextValidId."""

    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, wrapper=self)
        self.errors: list[tuple[int, int]] = []
        self.ready = threading.Event()
        self.changed = threading.Condition()

    def nextValidId(self, orderId: int) -> None:
        self.ready.set()

    def error(self, reqId: int, errorCode: int, errorString: str, *rest: Any) -> None:
        with self.changed:
            self.errors.append((reqId, errorCode))
            self.changed.notify_all()

    def wait(self, predicate: Callable[[], bool]) -> None:
        """Until ``predicate()``: woken by each error, and re-checked every 10 ms for state
        the broker changes on the gateway's thread."""
        deadline = time.monotonic() + 10
        with self.changed:
            while not predicate():
                assert time.monotonic() < deadline, self.errors
                self.changed.wait(0.01)


@contextmanager
def official(broker: SimBroker) -> Iterator[Official]:
    with GatewayThread(broker) as gw:
        app = Official()
        app.connect("127.0.0.1", gw.port, 41)
        reader = threading.Thread(target=app.run, daemon=True)
        reader.start()
        try:
            assert app.ready.wait(10)
            yield app
        finally:
            app.disconnect()
            reader.join(5)


def _ibapi_order(case: Case) -> Order:
    order = Order()
    order.action, order.totalQuantity, order.orderType = "BUY", 10, "LMT"
    order.lmtPrice, order.tif = 100.0, "DAY"
    # ibapi 9.81 defaults both to True, which TWS 983+ refuses (the two cases below)
    order.eTradeOnly = order.firmQuoteOnly = False
    for name, value in case.fields.items():
        setattr(order, name, value)
    return order


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_official_client_gets_the_same_codes(case: Case) -> None:
    broker = SimBroker(BrokerConfig(farm_status_messages=False))
    stock = Contract()
    stock.symbol, stock.secType, stock.exchange, stock.currency = "AAPL", "STK", "SMART", "USD"
    with official(broker) as app:
        app.placeOrder(ORDER_ID, stock, _ibapi_order(case))
        app.wait(lambda: any(req == ORDER_ID for req, _ in app.errors))
        codes = [code for req, code in app.errors if req == ORDER_ID]
    assert codes == [case.code]
    assert broker.orders() == ()


def test_the_official_client_modifies_by_order_id_and_gets_the_modify_codes() -> None:
    broker = SimBroker(BrokerConfig(farm_status_messages=False))
    stock = Contract()
    stock.symbol, stock.secType, stock.exchange, stock.currency = "AAPL", "STK", "SMART", "USD"
    resting = Case("rests", {"lmtPrice": 50.0}, 0)
    with official(broker) as app:
        app.placeOrder(ORDER_ID, stock, _ibapi_order(resting))
        app.wait(lambda: len(broker.orders()) == 1)  # read across threads: a plain snapshot
        booked = broker.orders()[0]
        app.placeOrder(ORDER_ID, stock, _ibapi_order(Case("modify", {"lmtPrice": 51.5}, 0)))
        app.wait(lambda: booked.lmt_price == Decimal("51.5"))
        app.placeOrder(ORDER_ID, stock, _ibapi_order(Case("side", {"action": "SELL"}, 0)))
        app.wait(lambda: len(app.errors) == 1)
        app.placeOrder(
            ORDER_ID + 1, stock, _ibapi_order(Case("nan", {"lmtPrice": float("nan")}, 0))
        )
        app.wait(lambda: len(app.errors) == 2)
        codes = app.errors
    assert codes == [(ORDER_ID, 105), (ORDER_ID + 1, 320)]
    assert len(broker.orders()) == 1
