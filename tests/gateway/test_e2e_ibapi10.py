"""IBKR's official client 10.x (EClient/EWrapper, in its own interpreter: see `ibapi10`) against
the paper TWS on loopback: it offers server versions 100..225, the gateway answers with its own
maximum, and the app gets contract details, an order filled at the touch and a quote stream
with the broker model's prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ibguard.kit.gateway.handshake import MAX_SERVER_VERSION
from ibguard.kit.gateway.thread_host import GatewayThread
from ibguard.kit.sim import BrokerConfig, SimBroker

from .ibapi10 import Ibapi10


def _of(calls: list[tuple[str, tuple[Any, ...]]], name: str) -> list[tuple[Any, ...]]:
    return [args for n, args in calls if n == name]


def _quote(broker: SimBroker) -> Any:
    instrument = broker.instruments.by_con_id(265598)
    assert instrument is not None
    return broker.market.quote(instrument, broker.clock.broker_now())


def test_the_official_10x_client_negotiates_down_and_trades_on_the_gateway(
    ibapi10: Ibapi10,
) -> None:
    broker = SimBroker(BrokerConfig(market_prices=True, create_unknown_contracts=False))
    with GatewayThread(broker) as gateway:
        seen = ibapi10.run("session", {"port": gateway.port, "client_id": 41}, timeout=90)
        quote = gateway.call(_quote, broker)
        orders = gateway.call(broker.orders)
        position = gateway.call(broker.position, "AAPL")
    calls = [(n, tuple(a)) for n, a in seen["calls"]]
    assert ibapi10.max_client_version > MAX_SERVER_VERSION  # so the gateway negotiates down
    assert seen["server_version"] == MAX_SERVER_VERSION
    assert seen["steps"] == {
        "connected": True,
        "contractDetails": True,
        "order": True,
        "quotes": True,
    }, calls[-8:]
    assert not [a for a in _of(calls, "error") if a[2] < 2100], _of(calls, "error")  # no refusal

    ((_, details),) = _of(calls, "contractDetails")
    c = details.contract
    assert (c.conId, c.primaryExchange, details.longName) == (265598, "NASDAQ", "APPLE INC")
    assert (details.minTick, details.timeZoneId) == (0.01, "US/Eastern")

    ((order_id,),) = _of(calls, "nextValidId")
    (booked,) = orders
    assert (booked.order_id, booked.quantity) == (order_id, Decimal(10))
    assert position == Decimal(10)
    statuses = [a for a in _of(calls, "orderStatus") if a[0] == order_id]
    assert statuses[-1][1:3] == ("Filled", Decimal(10))
    ((req_id, _, execution),) = _of(calls, "execDetails")
    assert (req_id, execution.orderId, execution.shares, execution.side) == (
        -1,
        order_id,
        Decimal(10),
        "BOT",
    )
    assert execution.price == float(quote.ask)  # a marketable buy fills at the touch
    ((report,),) = _of(calls, "commissionAndFeesReport")
    assert report.execId == execution.execId

    prices = {a[1]: a[2] for a in _of(calls, "tickPrice") if a[0] == 2}
    assert (prices[1], prices[2]) == (float(quote.bid), float(quote.ask))
    assert _of(calls, "tickReqParams")[0][1:] == (0.01, "9c0001", 3)
