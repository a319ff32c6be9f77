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


def test_the_official_10x_client_gets_an_answer_to_every_request_a_bot_makes(
    ibapi10: Ibapi10,
) -> None:
    """Its 178 encodings of positions, orders, account, executions, history, lookups, market
    data, a modify and a cancel, each read by the gateway and answered as TWS answers them."""
    broker = SimBroker(BrokerConfig(market_prices=True, create_unknown_contracts=False))
    with GatewayThread(broker) as gateway:
        seen = ibapi10.run("tour", {"port": gateway.port, "client_id": 42}, timeout=120)
        orders = gateway.call(broker.orders)
        streams = gateway.call(lambda: broker.market_data.streams)
    calls = [(n, tuple(a)) for n, a in seen["calls"]]
    assert all(seen["steps"].values()), {k: v for k, v in seen["steps"].items() if not v}
    order_id = seen["order_id"]
    notices = {2104, 2106, 2158}  # the farm connection messages TWS sends at startup
    errors = [(a[0], a[2]) for a in _of(calls, "error") if a[2] not in notices]
    assert errors == [(18, 200), (order_id, 202)]  # the unknown contract; the cancel

    summary = {a[2]: a[3] for a in _of(calls, "accountSummary") if a[0] == 9}
    assert set(summary) == {"NetLiquidation", "TotalCashValue"}
    bars = [a[1] for a in _of(calls, "historicalData") if a[0] == 11]
    assert len(bars) >= 19
    assert all(len(b.date) == 8 and b.low <= b.close <= b.high for b in bars)
    ((_, found),) = _of(calls, "symbolSamples")
    assert found[0].contract.conId == 265598
    assert ("marketDataType", (19, 3)) in calls
    delayed = {a[1] for a in _of(calls, "tickPrice") if a[0] == 19}
    assert {66, 67, 68} <= delayed  # IB's delayed bid, ask, last
    assert _of(calls, "tickByTickBidAsk")[0][0] == 16

    (booked,) = orders
    assert (booked.order_id, booked.lmt_price, booked.status) == (
        order_id,
        Decimal("2.0"),
        "Cancelled",
    )
    limits = [a[2].lmtPrice for a in _of(calls, "openOrder") if a[0] == order_id]
    assert limits == [1.0, 2.0]  # placed, then modified in place (no error 103)
    assert streams == 0  # tick-by-tick and bars cancelled; the snapshots ended themselves
