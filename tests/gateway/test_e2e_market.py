"""Market data end to end: unmodified ib_async and ib_insync clients on loopback get quotes,
snapshots, delayed data, tick-by-tick, 5-second bars and option analytics from the paper
TWS, and error 200 for what it does not list. Prices are checked against the broker's own
price model (the single source), never against hard-coded numbers."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from typing import Any

import pytest
from ibguard.kit.sim import BrokerConfig, SimBroker

from tests.support.scenarios import run

from .e2e_support import CLIENTS, Rig, rig

TICK = Decimal("0.01")


def _paper() -> SimBroker:
    return SimBroker(BrokerConfig(market_prices=True, create_unknown_contracts=False))


def _on_tick(value: float) -> bool:
    return Decimal(repr(value)) % TICK == 0


async def _aapl(r: Rig) -> Any:
    (contract,) = await r.ib.qualifyContractsAsync(r.stock("AAPL"))
    return contract


def _model(r: Rig, con_id: int = 265598) -> Any:
    instrument = r.broker.instruments.by_con_id(con_id)
    assert instrument is not None
    return r.broker.market.quote(instrument, r.broker.clock.broker_now())


@pytest.mark.parametrize("client", CLIENTS)
def test_live_quotes_are_the_models_and_stream_as_time_moves(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            ticker = r.ib.reqMktData(await _aapl(r))
            await r.until(lambda: not math.isnan(ticker.bid) and not math.isnan(ticker.close))
            first = _model(r)
            assert (ticker.bid, ticker.ask, ticker.last) == (
                float(first.bid), float(first.ask), float(first.last),
            )  # fmt: skip
            assert ticker.bid < ticker.ask
            assert ticker.minTick == 0.01
            r.broker.advance(90)
            moved = _model(r)
            instrument = r.broker.instruments.by_con_id(265598)
            assert instrument is not None
            day = r.broker.market.day_stats(instrument, r.broker.clock.broker_now())
            # the volume tick follows bid, ask, last, high and low in each batch
            await r.until(
                lambda: ticker.bid == float(moved.bid) and ticker.volume == float(day.volume)
            )
            assert all(_on_tick(v) for v in (ticker.bid, ticker.ask, ticker.last, ticker.high))
            assert ticker.low <= ticker.last <= ticker.high
            assert ticker.volume > 0

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_snapshot_answers_once_and_ends(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            (ticker,) = await r.ib.reqTickersAsync(await _aapl(r))
            model = _model(r)
            assert (ticker.bid, ticker.ask) == (float(model.bid), float(model.ask))
            assert r.broker.market_data.streams == 0  # a snapshot leaves no subscription

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_delayed_data_is_fifteen_minutes_old_and_says_so(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            r.broker.advance(3600)
            r.ib.reqMarketDataType(3)
            ticker = r.ib.reqMktData(await _aapl(r))
            await r.until(lambda: ticker.marketDataType == 3 and not math.isnan(ticker.bid))
            instrument = r.broker.instruments.by_con_id(265598)
            assert instrument is not None
            from datetime import timedelta

            then = r.broker.clock.broker_now() - timedelta(minutes=15)
            delayed = r.broker.market.quote(instrument, then)
            assert (ticker.bid, ticker.ask) == (float(delayed.bid), float(delayed.ask))

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_market_data_types_two_and_four_label_the_data_and_five_is_321(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            r.broker.advance(3600)
            for data_type in (2, 4):
                r.ib.reqMarketDataType(data_type)
                (ticker,) = await r.ib.reqTickersAsync(contract)
                assert ticker.marketDataType == data_type
                assert not math.isnan(ticker.bid)
            r.ib.reqMarketDataType(5)
            await r.until(lambda: (-1, 321) in r.errors)

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_cancelled_subscription_hears_nothing_more(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            ticker = r.ib.reqMktData(contract)
            await r.until(lambda: not math.isnan(ticker.bid))
            r.ib.cancelMktData(contract)
            await r.settle()
            assert r.broker.market_data.streams == 0
            before = (ticker.bid, ticker.ask)
            r.broker.advance(600)
            await r.settle()
            assert (ticker.bid, ticker.ask) == before

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_unknown_contracts_answer_200_for_details_and_market_data(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            assert await r.ib.qualifyContractsAsync(r.stock("ZZZZ")) in ([], [None])
            r.ib.reqMktData(r.lib.Contract(conId=1, exchange="SMART"))
            await r.until(lambda: sum(code == 200 for _, code in r.errors) >= 2)
            assert r.broker.market_data.streams == 0

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", ["Last", "AllLast", "BidAsk", "MidPoint"])
def test_tick_by_tick_streams_each_kind_until_cancelled(client: str, kind: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            ticker = r.ib.reqTickByTickData(contract, kind)
            await r.until(lambda: len(ticker.tickByTicks) >= 1)
            assert r.broker.market_data.streams == 1
            for _ in range(5):
                r.broker.advance(7)
            await r.until(lambda: len(ticker.tickByTicks) >= 2)
            tick = ticker.tickByTicks[-1]
            model = _model(r)
            if kind == "BidAsk":
                assert (tick.bidPrice, tick.askPrice) == (float(model.bid), float(model.ask))
            elif kind == "MidPoint":
                assert tick.midPoint == float(model.mid)
            else:
                assert tick.price == float(model.last)
            r.ib.cancelTickByTickData(contract, kind)
            await r.settle()
            assert r.broker.market_data.streams == 0

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_real_time_bars_come_every_five_seconds_and_are_consistent(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            bars = r.ib.reqRealTimeBars(await _aapl(r), 5, "TRADES", False)
            await r.until(lambda: r.broker.market_data.streams == 1)
            for _ in range(6):
                r.broker.advance(5)
            await r.until(lambda: len(bars) >= 5)
            times = [b.time.timestamp() for b in bars]
            assert all(b - a == 5 for a, b in itertools.pairwise(times))
            for b in bars:
                assert b.low <= min(b.open_, b.close) <= max(b.open_, b.close) <= b.high
                assert b.volume > 0
            r.ib.cancelRealTimeBars(bars)
            await r.settle()
            assert r.broker.market_data.streams == 0

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_option_quotes_carry_black_scholes_analytics_on_the_underlying(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            option = r.lib.Option("AAPL", "20240216", 185, "C", "SMART")
            (option,) = await r.ib.qualifyContractsAsync(option)
            ticker = r.ib.reqMktData(option)
            await r.until(lambda: ticker.modelGreeks is not None and not math.isnan(ticker.bid))
            greeks = ticker.modelGreeks
            stock = _model(r)
            assert greeks.undPrice == float(stock.mid)
            assert 0 < greeks.delta < 1
            assert greeks.gamma > 0
            assert ticker.bid < greeks.optPrice < ticker.ask

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_halted_instrument_ticks_halted_until_it_resumes(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            r.broker.halt("AAPL")
            ticker = r.ib.reqMktData(contract)
            await r.until(lambda: ticker.halted == 1)
            assert math.isnan(ticker.bid)
            r.broker.resume("AAPL")  # subscribers hear it at once
            await r.until(lambda: ticker.halted == 0 and not math.isnan(ticker.bid))

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_market_orders_fill_at_the_touch_of_the_quote(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            quote = _model(r)
            trade = r.ib.placeOrder(contract, r.lib.MarketOrder("BUY", 10))
            await r.until(lambda: trade.orderStatus.status == "Filled")
            assert trade.fills[0].execution.price == float(quote.ask)
            sell = r.ib.placeOrder(contract, r.lib.MarketOrder("SELL", 10))
            await r.until(lambda: sell.orderStatus.status == "Filled")
            assert sell.fills[0].execution.price == float(quote.bid)

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_resting_limit_fills_when_the_quote_comes_to_it(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            ask = _model(r).ask
            limit = float(ask - Decimal("0.05"))
            trade = r.ib.placeOrder(contract, r.lib.LimitOrder("BUY", 10, limit))
            await r.until(lambda: trade.orderStatus.status == "Submitted")
            r.broker.set_price("AAPL", ask - Decimal("0.50"))  # a script gap: the market drops
            await r.until(lambda: trade.orderStatus.status == "Filled")
            assert trade.fills[0].execution.price <= limit

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_an_order_for_an_unknown_contract_is_error_200_and_books_nothing(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            trade = r.ib.placeOrder(r.stock("ZZZZ"), r.lib.MarketOrder("BUY", 1))
            await r.until(lambda: (trade.order.orderId, 200) in r.errors)
            assert r.broker.orders() == ()

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_market_depth_is_not_served_and_answered_321(client: str) -> None:
    """Nothing is silently dropped: a request the paper TWS does not serve gets 321 for its
    id (docs/tws-order-errors.md) and the session goes on."""

    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            r.ib.reqMktDepth(contract, 5)
            await r.until(lambda: any(code == 321 for _, code in r.errors))
            assert await r.ib.reqCurrentTimeAsync() == r.broker.clock.broker_now()

    run(scenario)
