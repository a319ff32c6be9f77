"""Market data, history and lookups end to end with the official IBKR client (`ibapi` 9.81,
EClient/EWrapper, server version 157) against the paper TWS in a `GatewayThread`: each
capability answers as it does for ib_async and ib_insync, with values from the broker's model."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from ibguard.kit.gateway.thread_host import GatewayThread
from ibguard.kit.sim import BrokerConfig, SimBroker

ibapi = pytest.importorskip("ibapi")
from ibapi.client import EClient  # noqa: E402 - after the importorskip
from ibapi.contract import Contract  # noqa: E402
from ibapi.wrapper import EWrapper  # noqa: E402


class Recorder(EWrapper, EClient):
    """Every callback recorded as (name, args), in arrival order."""

    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, wrapper=self)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.lock = threading.Lock()

    def __getattribute__(self, name: str) -> Any:
        attr = object.__getattribute__(self, name)
        wrapped = name[:1].islower() and callable(attr) and hasattr(EWrapper, name)
        if wrapped and getattr(EWrapper, name) is getattr(type(self), name, None):

            def record(*args: Any) -> None:
                with object.__getattribute__(self, "lock"):
                    object.__getattribute__(self, "calls").append((name, args))

            return record
        return attr

    def of(self, name: str, req_id: int | None = None) -> list[tuple[Any, ...]]:
        with self.lock:
            return [a for n, a in self.calls if n == name and (req_id is None or a[0] == req_id)]

    def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not reached; calls: {self.calls[-5:]}")
            time.sleep(0.01)


@contextmanager
def session(
    broker: SimBroker | None = None,
) -> Iterator[tuple[Recorder, SimBroker, GatewayThread]]:
    broker = broker or SimBroker(BrokerConfig(market_prices=True, create_unknown_contracts=False))
    with GatewayThread(broker) as gateway:
        app = Recorder()
        app.connect("127.0.0.1", gateway.port, 31)
        reader = threading.Thread(target=app.run, daemon=True)
        reader.start()
        try:
            app.until(lambda: bool(app.of("nextValidId")))
            yield app, broker, gateway
        finally:
            app.disconnect()
            reader.join(5)


def _stock(symbol: str = "AAPL") -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", "SMART", "USD"
    return c


def _quote(broker: SimBroker, con_id: int = 265598) -> Any:
    instrument = broker.instruments.by_con_id(con_id)
    assert instrument is not None
    return broker.market.quote(instrument, broker.clock.broker_now())


def test_contract_details_carry_ibs_identifiers_and_unknown_is_200() -> None:
    with session() as (app, _, _):
        app.reqContractDetails(1, _stock())
        app.until(lambda: bool(app.of("contractDetailsEnd", 1)))
        ((_, details),) = app.of("contractDetails", 1)
        c = details.contract
        assert (c.conId, c.primaryExchange, details.longName) == (265598, "NASDAQ", "APPLE INC")
        assert details.timeZoneId == "US/Eastern"
        app.reqContractDetails(2, _stock("ZZZZ"))
        app.until(lambda: any(a[0] == 2 for a in app.of("error")))
        assert [a[1] for a in app.of("error", 2)] == [200]


def test_a_snapshot_and_a_stream_carry_the_models_prices() -> None:
    with session() as (app, broker, gateway):
        app.reqMktData(5, _stock(), "", True, False, [])
        app.until(lambda: bool(app.of("tickSnapshotEnd", 5)))
        prices = {a[1]: a[2] for a in app.of("tickPrice", 5)}
        quote = gateway.call(_quote, broker)
        assert (prices[1], prices[2]) == (float(quote.bid), float(quote.ask))
        sizes = {a[1] for a in app.of("tickSize", 5)}
        assert {0, 3, 5, 8} <= sizes  # bid, ask, last sizes (split by ibapi) and volume
        assert app.of("tickReqParams", 5)[0][1:] == (0.01, "9c0001", 3)
        app.reqMktData(6, _stock(), "", False, False, [])
        app.until(lambda: bool(app.of("tickPrice", 6)))
        gateway.call(broker.advance, 120)
        moved = gateway.call(_quote, broker)
        app.until(lambda: (6, 1, float(moved.bid)) in [a[:3] for a in app.of("tickPrice", 6)])
        app.cancelMktData(6)
        app.until(lambda: gateway.call(lambda: broker.market_data.streams) == 0)


def test_tick_by_tick_and_real_time_bars_stream_and_cancel() -> None:
    with session() as (app, broker, gateway):
        app.reqTickByTickData(7, _stock(), "BidAsk", 0, False)
        app.reqRealTimeBars(8, _stock(), 5, "MIDPOINT", False, [])
        app.until(lambda: gateway.call(lambda: broker.market_data.streams) == 2)
        for _ in range(4):
            gateway.call(broker.advance, 5)
        app.until(lambda: len(app.of("realtimeBar", 8)) >= 3 and bool(app.of("tickByTickBidAsk")))
        _, _, bid, ask, *_ = app.of("tickByTickBidAsk", 7)[-1]
        assert bid < ask
        bars = app.of("realtimeBar", 8)
        assert [b[1] - a[1] for a, b in itertools.pairwise(bars)] == [5] * (len(bars) - 1)
        app.cancelTickByTickData(7)
        app.cancelRealTimeBars(8)
        app.until(lambda: gateway.call(lambda: broker.market_data.streams) == 0)


def test_history_head_timestamp_symbols_and_option_parameters() -> None:
    with session() as (app, _, _):
        app.reqHistoricalData(9, _stock(), "", "1 M", "1 day", "TRADES", 1, 1, False, [])
        app.until(lambda: bool(app.of("historicalDataEnd", 9)))
        bars = [a[1] for a in app.of("historicalData", 9)]
        assert len(bars) >= 19
        assert all(len(b.date) == 8 and b.low <= b.close <= b.high for b in bars)
        app.reqHeadTimeStamp(10, _stock(), "TRADES", 1, 1)
        app.reqMatchingSymbols(11, "QQ")
        app.reqSecDefOptParams(12, "SPY", "", "STK", 756733)
        app.until(lambda: bool(app.of("securityDefinitionOptionParameterEnd", 12)))
        app.until(lambda: bool(app.of("headTimestamp", 10)) and bool(app.of("symbolSamples", 11)))
        assert app.of("headTimestamp", 10)[0][1] == "20040102-14:30:00"
        ((_, found),) = app.of("symbolSamples", 11)
        assert found[0].contract.conId == 320227571
        ((_, exchange, under, trading_class, multiplier, expiries, strikes),) = app.of(
            "securityDefinitionOptionParameter", 12
        )
        assert (exchange, under, trading_class, multiplier) == ("SMART", 756733, "SPY", "100")
        assert len(expiries) == 4
        assert len(strikes) == 21
        app.reqHistoricalData(13, _stock("ZZZZ"), "", "1 D", "1 hour", "TRADES", 1, 1, False, [])
        app.until(lambda: bool(app.of("error", 13)))
        assert app.of("error", 13)[0][1] == 200


def test_an_order_for_an_unknown_contract_is_error_200() -> None:
    from ibapi.order import Order

    with session() as (app, broker, gateway):
        order = Order()
        order.action, order.orderType, order.totalQuantity = "BUY", "MKT", 1
        order.eTradeOnly = order.firmQuoteOnly = False
        (order_id,) = app.of("nextValidId")[0]
        app.placeOrder(order_id, _stock("ZZZZ"), order)
        app.until(lambda: bool(app.of("error", order_id)))
        assert app.of("error", order_id)[0][1] == 200
        assert gateway.call(broker.orders) == ()


def test_delayed_data_option_greeks_and_live_history_updates() -> None:
    with session() as (app, broker, gateway):
        gateway.call(broker.advance, 3600)
        app.reqMarketDataType(3)
        app.reqMktData(20, _stock(), "", True, False, [])
        app.until(lambda: bool(app.of("tickSnapshotEnd", 20)))
        assert app.of("marketDataType", 20) == [(20, 3)]
        delayed = {a[1] for a in app.of("tickPrice", 20)}
        assert {66, 67, 68} <= delayed  # IB's delayed bid, ask, last
        app.reqMarketDataType(1)
        option = Contract()
        option.symbol, option.secType, option.exchange, option.currency = (
            "AAPL", "OPT", "SMART", "USD",
        )  # fmt: skip
        option.lastTradeDateOrContractMonth, option.strike, option.right = "20240216", 185, "C"
        app.reqMktData(21, option, "", True, False, [])
        app.until(lambda: bool(app.of("tickSnapshotEnd", 21)))
        model = [a for a in app.of("tickOptionComputation", 21) if a[1] == 13]
        (_, _, _, iv, delta, price, _, gamma, _, _, under) = model[0]
        assert (iv, 0 < delta < 1, price > 0, gamma > 0) == (0.26, True, True, True)
        assert under == float(gateway.call(_quote, broker).mid)
        app.reqHistoricalData(22, _stock(), "", "1800 S", "1 min", "TRADES", 0, 1, True, [])
        app.until(lambda: bool(app.of("historicalDataEnd", 22)))
        for _ in range(3):
            gateway.call(broker.advance, 30)
        app.until(lambda: len(app.of("historicalDataUpdate", 22)) >= 2)
        bar = app.of("historicalDataUpdate", 22)[-1][1]
        assert bar.low <= bar.close <= bar.high
        app.cancelHistoricalData(22)
