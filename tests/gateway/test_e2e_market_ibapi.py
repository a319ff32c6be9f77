"""Market data, history and lookups end to end with both official IBKR clients (EClient/EWrapper:
`ibapi` 9.81 at server version 157, and 10.x at 178 in its own interpreter; `ibapi_apps`)
against the paper TWS in a `GatewayThread`: each capability answers as it does for ib_async
and ib_insync (test_e2e_market*.py), with values from the broker's model, and the errors TWS
answers instead of data (162, 200, 321)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from ibguard.kit.gateway.thread_host import GatewayThread
from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim.script import PacingViolation

from .ibapi_apps import OFFICIAL, SERVER_VERSION, App, Local981, contract, official_app, order

Session = tuple[App, SimBroker, GatewayThread]


@pytest.fixture(params=OFFICIAL)
def official(request: pytest.FixtureRequest) -> Iterator[Session]:
    """An official-client app on a paper TWS: model prices, unknown contracts refused."""
    client = request.param
    ibapi10 = request.getfixturevalue("ibapi10") if client == "ibapi-10" else None
    if client == "ibapi-9.81":
        pytest.importorskip("ibapi")
    broker = SimBroker(BrokerConfig(market_prices=True, create_unknown_contracts=False))
    with GatewayThread(broker) as gateway, official_app(client, gateway.port, 31, ibapi10) as app:
        assert app.server_version == SERVER_VERSION[client]
        yield app, broker, gateway


@contextmanager
def session(broker: SimBroker | None = None) -> Iterator[tuple[Local981, SimBroker, GatewayThread]]:
    """The 9.81 app (an EClient with `of`/`until`) on a paper TWS, or on `broker`."""
    broker = broker or SimBroker(BrokerConfig(market_prices=True, create_unknown_contracts=False))
    with GatewayThread(broker) as gateway, official_app("ibapi-9.81", gateway.port, 31) as app:
        assert isinstance(app, Local981)
        yield app, broker, gateway


def _quote(broker: SimBroker, con_id: int = 265598) -> Any:
    instrument = broker.instruments.by_con_id(con_id)
    assert instrument is not None
    return broker.market.quote(instrument, broker.clock.broker_now())


def _streams(gateway: GatewayThread, broker: SimBroker) -> int:
    return gateway.call(lambda: broker.market_data.streams)


def test_contract_details_carry_ibs_identifiers_and_unknown_is_200(official: Session) -> None:
    app, _, _ = official
    app.request("reqContractDetails", 1, contract())
    app.until(lambda: bool(app.of("contractDetailsEnd", 1)))
    ((_, details),) = app.of("contractDetails", 1)
    c = details.contract
    assert (c.conId, c.primaryExchange, details.longName) == (265598, "NASDAQ", "APPLE INC")
    assert details.timeZoneId == "US/Eastern"
    app.request("reqContractDetails", 2, contract("ZZZZ"))
    app.until(lambda: bool(app.of("error", 2)))
    assert app.codes(2) == [200]
    option = contract("AAPL", "OPT", lastTradeDateOrContractMonth="20240216", strike=185.0,
                      right="C")  # fmt: skip
    app.request("reqContractDetails", 3, option)
    app.until(lambda: bool(app.of("contractDetailsEnd", 3)))
    ((_, found),) = app.of("contractDetails", 3)
    assert (found.contract.strike, found.contract.right, found.contract.multiplier) == (
        185.0, "C", "100",
    )  # fmt: skip


def test_a_snapshot_and_a_stream_carry_the_models_prices(official: Session) -> None:
    app, broker, gateway = official
    app.request("reqMktData", 5, contract(), "", True, False, [])
    app.until(lambda: bool(app.of("tickSnapshotEnd", 5)))
    prices = {a[1]: a[2] for a in app.of("tickPrice", 5)}
    quote = gateway.call(_quote, broker)
    assert (prices[1], prices[2]) == (float(quote.bid), float(quote.ask))
    sizes = {a[1] for a in app.of("tickSize", 5)}
    assert {0, 3, 5, 8} <= sizes  # bid, ask, last sizes (split by ibapi) and volume
    assert app.of("tickReqParams", 5)[0][1:] == (0.01, "9c0001", 3)
    app.request("reqMktData", 6, contract(), "", False, False, [])
    app.until(lambda: bool(app.of("tickPrice", 6)))
    gateway.call(broker.advance, 120)
    moved = gateway.call(_quote, broker)
    app.until(lambda: (6, 1, float(moved.bid)) in [a[:3] for a in app.of("tickPrice", 6)])
    app.request("cancelMktData", 6)
    app.until(lambda: _streams(gateway, broker) == 0)


def test_market_data_for_an_unknown_contract_is_200_and_subscribes_nothing(
    official: Session,
) -> None:
    app, broker, gateway = official
    app.request("reqMktData", 30, contract("ZZZZ"), "", False, False, [])
    app.request("reqMktData", 31, contract(conId=1), "", True, False, [])
    app.until(lambda: bool(app.of("error", 30)) and bool(app.of("error", 31)))
    assert (app.codes(30), app.codes(31)) == ([200], [200])
    assert _streams(gateway, broker) == 0
    assert not app.of("tickPrice")


def test_tick_by_tick_streams_every_kind_and_cancels(official: Session) -> None:
    app, broker, gateway = official
    kinds = {40: "Last", 41: "AllLast", 42: "BidAsk", 43: "MidPoint"}
    for req_id, kind in kinds.items():
        app.request("reqTickByTickData", req_id, contract(), kind, 0, False)
    app.until(lambda: _streams(gateway, broker) == 4)
    for _ in range(3):
        gateway.call(broker.advance, 7)
    app.until(lambda: {a[0] for a in app.of("tickByTickAllLast")} == {40, 41})
    app.until(lambda: bool(app.of("tickByTickBidAsk", 42)) and bool(app.of("tickByTickMidPoint")))
    model = gateway.call(_quote, broker)
    app.until(lambda: app.of("tickByTickMidPoint", 43)[-1][2] == float(model.mid))
    _, _, bid, ask, *_ = app.of("tickByTickBidAsk", 42)[-1]
    assert (bid, ask) == (float(model.bid), float(model.ask))
    last = app.of("tickByTickAllLast", 40)[-1]
    assert (last[1], last[3]) == (1, float(model.last))  # tickType 1 = Last; its price
    assert app.of("tickByTickAllLast", 41)[-1][1] == 2  # AllLast
    for req_id in kinds:
        app.request("cancelTickByTickData", req_id)
    app.until(lambda: _streams(gateway, broker) == 0)


def test_real_time_bars_come_every_five_seconds_and_cancel(official: Session) -> None:
    app, broker, gateway = official
    app.request("reqRealTimeBars", 8, contract(), 5, "MIDPOINT", False, [])
    app.until(lambda: _streams(gateway, broker) == 1)
    for _ in range(4):
        gateway.call(broker.advance, 5)
    app.until(lambda: len(app.of("realtimeBar", 8)) >= 3)
    bars = app.of("realtimeBar", 8)
    assert [b[1] - a[1] for a, b in itertools.pairwise(bars)] == [5] * (len(bars) - 1)
    assert all(low <= min(o, c) <= max(o, c) <= high for _, _, o, high, low, c, *_ in bars)
    app.request("cancelRealTimeBars", 8)
    app.until(lambda: _streams(gateway, broker) == 0)


def test_history_head_timestamp_symbols_and_option_parameters(official: Session) -> None:
    app, _, _ = official
    app.request("reqHistoricalData", 9, contract(), "", "1 M", "1 day", "TRADES", 1, 1, False, [])
    end = "20231229 16:00:00 US/Eastern"  # explicit end (a trading Friday), epoch dates
    app.request("reqHistoricalData", 14, contract(), end, "1 D", "30 mins", "MIDPOINT", 1, 2,
                False, [])  # fmt: skip
    app.until(
        lambda: bool(app.of("historicalDataEnd", 9)) and bool(app.of("historicalDataEnd", 14))
    )
    bars = [a[1] for a in app.of("historicalData", 9)]
    assert len(bars) >= 19
    assert all(len(b.date) == 8 and b.low <= b.close <= b.high for b in bars)
    stamps = [int(a[1].date) for a in app.of("historicalData", 14)]
    assert len(stamps) == 13  # 09:30 .. 15:30
    assert all(b - a == 1800 for a, b in itertools.pairwise(stamps))
    for req_id, kind in ((15, "BID"), (16, "ASK")):
        app.request("reqHistoricalData", req_id, contract(), end, "1 D", "1 hour", kind, 1, 2,
                    False, [])  # fmt: skip
    app.until(
        lambda: bool(app.of("historicalDataEnd", 15)) and bool(app.of("historicalDataEnd", 16))
    )
    bid_bars, ask_bars = ([a[1] for a in app.of("historicalData", r)] for r in (15, 16))
    assert len(bid_bars) == len(ask_bars) > 0
    assert all(b.close < a.close for b, a in zip(bid_bars, ask_bars, strict=True))
    app.request("reqHeadTimeStamp", 10, contract(), "TRADES", 1, 1)
    app.request("reqMatchingSymbols", 11, "QQ")
    app.request("reqSecDefOptParams", 12, "SPY", "", "STK", 756733)
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


def test_history_errors_are_tws_codes(official: Session) -> None:
    app, broker, gateway = official
    gateway.call(broker.script.arm, PacingViolation(symbol="AAPL"))
    eur = contract("EUR", "CASH", exchange="IDEALPRO")
    asks: dict[int, tuple[Any, ...]] = {
        50: (contract(), "", "1 D", "1 min", "TRADES", 1, 1, False),  # pacing: 162
        51: (eur, "", "1 D", "1 hour", "TRADES", 0, 1, False),  # FX has no trades: 162
        52: (contract(), "", "1 Y", "1 secs", "TRADES", 1, 1, False),  # too many bars: 162
        53: (contract("ZZZZ"), "", "1 D", "1 hour", "TRADES", 1, 1, False),  # unknown: 200
        54: (contract(), "", "1 D", "7 mins", "TRADES", 1, 1, False),  # no such bar size: 321
        55: (contract(), "20240101 16:00:00 US/Eastern", "1 D", "1 min", "TRADES", 1, 1, True),
    }  # (the last: keepUpToDate with an end date: 321)
    for req_id, args in asks.items():
        app.request("reqHistoricalData", req_id, *args, [])
    app.until(lambda: all(app.of("error", req_id) for req_id in asks))
    assert [app.codes(r) for r in asks] == [[162], [162], [162], [200], [321], [321]]
    assert not app.of("historicalData")
    app.request("reqHistoricalData", 56, eur, "", "1 D", "1 hour", "MIDPOINT", 0, 1, False, [])
    app.until(lambda: bool(app.of("historicalDataEnd", 56)))
    assert app.of("historicalData", 56)


def test_an_order_for_an_unknown_contract_is_error_200(official: Session) -> None:
    app, broker, gateway = official
    order_id = app.next_order_id
    app.request("placeOrder", order_id, contract("ZZZZ"), order(quantity=1, order_type="MKT"))
    app.until(lambda: bool(app.of("error", order_id)))
    assert app.codes(order_id) == [200]
    assert gateway.call(broker.orders) == ()


def test_market_orders_fill_at_the_touch_with_execution_times_in_tws_zone(
    official: Session,
) -> None:
    app, broker, gateway = official
    quote = gateway.call(_quote, broker)
    order_id = app.next_order_id
    app.request("placeOrder", order_id, contract(), order(quantity=10, order_type="MKT"))
    app.until(lambda: bool(app.of("execDetails")))
    ((req_id, _, execution),) = app.of("execDetails")
    assert (req_id, execution.orderId, execution.side) == (-1, order_id, "BOT")
    assert (float(execution.shares), execution.price) == (10, float(quote.ask))
    assert execution.time == "20240102 09:30:00 US/Eastern"  # broker time, TWS's zone
    app.request("reqCompletedOrders", False)
    app.until(lambda: bool(app.of("completedOrdersEnd")))
    ((_, _, state),) = app.of("completedOrder")
    assert state.completedTime == "20240102 09:30:00 US/Eastern"


def test_delayed_data_option_greeks_and_live_history_updates(official: Session) -> None:
    app, broker, gateway = official
    gateway.call(broker.advance, 3600)
    app.request("reqMarketDataType", 3)
    app.request("reqMktData", 20, contract(), "", True, False, [])
    app.until(lambda: bool(app.of("tickSnapshotEnd", 20)))
    assert app.of("marketDataType", 20) == [(20, 3)]
    delayed = {a[1] for a in app.of("tickPrice", 20)}
    assert {66, 67, 68} <= delayed  # IB's delayed bid, ask, last
    app.request("reqMarketDataType", 1)
    option = contract("AAPL", "OPT", lastTradeDateOrContractMonth="20240216", strike=185.0,
                      right="C")  # fmt: skip
    app.request("reqMktData", 21, option, "", True, False, [])
    app.until(lambda: bool(app.of("tickSnapshotEnd", 21)))
    model = [a for a in app.of("tickOptionComputation", 21) if a[1] == 13]
    (_, _, _, iv, delta, price, _, gamma, _, _, under) = model[0]
    assert (iv, 0 < delta < 1, price > 0, gamma > 0) == (0.26, True, True, True)
    assert under == float(gateway.call(_quote, broker).mid)
    app.request("reqHistoricalData", 22, contract(), "", "1800 S", "1 min", "TRADES", 0, 1, True,
                [])  # fmt: skip
    app.until(lambda: bool(app.of("historicalDataEnd", 22)))
    for _ in range(3):
        gateway.call(broker.advance, 30)
    app.until(lambda: len(app.of("historicalDataUpdate", 22)) >= 2)
    bar = app.of("historicalDataUpdate", 22)[-1][1]
    assert bar.low <= bar.close <= bar.high
    app.request("cancelHistoricalData", 22)
    app.until(lambda: _streams(gateway, broker) == 0)
    # a round trip (anything sent before its answer has arrived): an update the gateway
    # sent before the cancel reached it may still be on its way
    app.request("reqCurrentTime")
    app.until(lambda: len(app.of("currentTime")) == 1)
    heard = len(app.of("historicalDataUpdate", 22))
    gateway.call(broker.advance, 120)
    app.request("reqCurrentTime")  # and again: nothing came after the cancel
    app.until(lambda: len(app.of("currentTime")) == 2)
    assert len(app.of("historicalDataUpdate", 22)) == heard


def test_a_halted_instrument_ticks_halted_until_it_resumes(official: Session) -> None:
    app, broker, gateway = official
    gateway.call(broker.halt, "AAPL")
    app.request("reqMktData", 60, contract(), "", False, False, [])
    app.until(lambda: (60, 49, 1.0) in app.of("tickGeneric", 60))
    assert not app.of("tickPrice", 60)
    gateway.call(broker.resume, "AAPL")
    app.until(lambda: (60, 49, 0.0) in app.of("tickGeneric", 60) and bool(app.of("tickPrice", 60)))


def test_a_request_the_gateway_does_not_serve_is_answered_321_and_the_session_goes_on(
    official: Session,
) -> None:
    app, _, _ = official
    app.request("reqMktDepth", 70, contract(), 5, False, [])
    app.request("reqCurrentTime")
    app.until(lambda: bool(app.of("error", 70)) and bool(app.of("currentTime")))
    assert app.codes(70) == [321]
    assert not app.of("updateMktDepth")


def test_market_data_types_two_and_four_label_the_data_and_five_is_321(official: Session) -> None:
    """2 (frozen) answers like live data, 4 (delayed frozen) like delayed, each labelled with
    its type; a type outside 1..4 is 321 for no request (-1)."""
    app, broker, gateway = official
    gateway.call(broker.advance, 3600)
    for req_id, data_type in ((80, 2), (81, 4)):
        app.request("reqMarketDataType", data_type)
        app.request("reqMktData", req_id, contract(), "", True, False, [])
        app.until(lambda r=req_id: bool(app.of("tickSnapshotEnd", r)))
    assert (app.of("marketDataType", 80), app.of("marketDataType", 81)) == ([(80, 2)], [(81, 4)])
    assert {1, 2} <= {a[1] for a in app.of("tickPrice", 80)}  # live bid, ask
    assert {66, 67} <= {a[1] for a in app.of("tickPrice", 81)}  # delayed bid, ask
    app.request("reqMarketDataType", 5)
    app.until(lambda: 321 in app.codes(-1))
