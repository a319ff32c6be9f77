"""reqHistoricalTicks and reqMarketRule end to end: unmodified ib_async and ib_insync clients
and both official IBKR clients (ibapi 9.81 at server version 157, 10.x at 178) get time and
sales, bid/ask and midpoint history from the price model (checked tick by tick against the
broker's own quotes), the market rule their contract details name, and TWS's errors."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from ibguard.kit.sim import SimBroker

from tests.support.scenarios import run

from .e2e_support import CLIENTS, rig
from .ibapi_apps import contract
from .official_paper import OfficialPaper, paper

AAPL = 265598
END = "20240102 09:40:00 US/Eastern"  # the broker is at 09:45 (`paper`)
START = "20240102 09:31:00 US/Eastern"


def _epoch(value: Any) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def _quote(broker: SimBroker, epoch: int) -> Any:
    instrument = broker.instruments.by_con_id(AAPL)
    assert instrument is not None
    return broker.market.quote(instrument, datetime.fromtimestamp(epoch, timezone.utc))


def _check_trades(broker: SimBroker, ticks: list[Any], count: int, end: int) -> None:
    times = [_epoch(t.time) for t in ticks]
    assert times == list(range(end - count, end))  # one trade a second, the last before end
    for t, at in zip(ticks, times, strict=True):
        q = _quote(broker, at)
        assert (t.price, t.size, t.exchange) == (float(q.last), float(q.last_size), "NASDAQ")


def _check_bid_ask(broker: SimBroker, ticks: list[Any], start: int) -> None:
    times = [_epoch(t.time) for t in ticks]
    assert times == sorted(times)
    assert times[0] >= start
    for t, at in zip(ticks, times, strict=True):
        q = _quote(broker, at)
        got = (t.priceBid, t.priceAsk, t.sizeBid, t.sizeAsk)
        assert got == (float(q.bid), float(q.ask), float(q.bid_size), float(q.ask_size))
        before = _quote(broker, at - 1)  # a tick says something changed
        assert (before.bid, before.ask, before.bid_size, before.ask_size) != (
            q.bid, q.ask, q.bid_size, q.ask_size,
        )  # fmt: skip


def _check_midpoints(broker: SimBroker, ticks: list[Any], end: int) -> None:
    times = [_epoch(t.time) for t in ticks]
    assert times == sorted(times)
    assert times[-1] < end
    for t, at in zip(ticks, times, strict=True):
        q = _quote(broker, at)
        assert (t.price, t.size) == (float(q.mid), 0)
        assert _quote(broker, at - 1).mid != q.mid


def _at(text: str) -> int:
    naive = datetime.strptime(text[:17], "%Y%m%d %H:%M:%S")  # noqa: DTZ007 - New York, below
    return int(naive.replace(tzinfo=timezone.utc).timestamp()) + 5 * 3600  # EST = UTC-5


@pytest.mark.parametrize("client", CLIENTS)
def test_historical_ticks_are_the_models_seconds_for_each_kind(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, paper()) as r:
            stock = r.stock("AAPL")
            ib = r.ib
            trades = await ib.reqHistoricalTicksAsync(stock, "", END, 100, "TRADES", True)
            _check_trades(r.broker, trades, 100, _at(END))
            bid_ask = await ib.reqHistoricalTicksAsync(stock, START, "", 50, "BID_ASK", True)
            assert len(bid_ask) == 50
            _check_bid_ask(r.broker, bid_ask, _at(START))
            mids = await ib.reqHistoricalTicksAsync(stock, "", END, 30, "MIDPOINT", False)
            assert len(mids) == 30
            _check_midpoints(r.broker, mids, _at(END))

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_historical_tick_errors_are_tws_codes(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, paper()) as r:
            ib = r.ib
            eur = r.lib.Forex("EURUSD")
            asks = [
                (r.stock("ZZZZ"), "", END, 10, "TRADES"),  # unknown: 200
                (eur, "", END, 10, "TRADES"),  # FX has no trades: 162
                (r.stock(), START, END, 10, "TRADES"),  # both times: 321
                (r.stock(), "", END, 10, "BID"),  # not a tick kind: 321
            ]
            for ask in asks:  # not awaited: both clients take 321 for a warning and wait on
                ib.reqHistoricalTicksAsync(*ask, True)
            await r.until(lambda: len(r.errors) == 4)
            assert [code for _, code in r.errors] == [200, 162, 321, 321]

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_the_market_rule_of_contract_details_is_answered(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, paper()) as r:
            ib = r.ib
            (details,) = await ib.reqContractDetailsAsync(r.stock("AAPL"))
            assert details.marketRuleIds == "26,26"  # SMART and NASDAQ
            rows = await ib.reqMarketRuleAsync(26)
            assert [(p.lowEdge, p.increment) for p in rows] == [(0, details.minTick)]
            (fx,) = await ib.reqContractDetailsAsync(r.lib.Forex("EURUSD"))
            (rule,) = (int(x) for x in fx.marketRuleIds.split(","))
            assert rule == 239
            rows = await ib.reqMarketRuleAsync(rule)
            assert [(p.lowEdge, p.increment) for p in rows] == [(0, 0.00005)]
            assert await ib.reqMarketRuleAsync(999) is None  # unknown: 321, no rule
            await r.until(lambda: bool(r.errors))
            assert r.errors == [(-1, 321)]

    run(scenario)


def test_the_official_clients_get_historical_ticks_and_market_rules(
    official_paper: OfficialPaper,
) -> None:
    app, broker, gateway = official_paper
    app.request("reqHistoricalTicks", 61, contract(), "", END, 20, "TRADES", 1, False, [])
    app.request("reqHistoricalTicks", 62, contract(), START, "", 20, "BID_ASK", 1, False, [])
    app.request("reqHistoricalTicks", 63, contract(), "", END, 20, "MIDPOINT", 0, False, [])
    app.request("reqHistoricalTicks", 64, contract(), "", "", 20, "TRADES", 1, False, [])
    app.request("reqMarketRule", 26)
    app.request("reqMarketRule", 999)  # no such rule: 321 for reqId -1
    app.until(
        lambda: (
            all(
                app.of(name, req_id)
                for name, req_id in (
                    ("historicalTicksLast", 61),
                    ("historicalTicksBidAsk", 62),
                    ("historicalTicks", 63),
                    ("error", 64),
                    ("marketRule", 26),
                )
            )
            and 321 in app.codes(-1)
        )
    )
    (last,) = app.of("historicalTicksLast", 61)
    assert last[2] is True
    # checked in the gateway's thread, which owns the broker
    gateway.call(_check_trades, broker, [_Floats(t) for t in last[1]], 20, _at(END))
    ((_, bid_ask, _),) = app.of("historicalTicksBidAsk", 62)
    gateway.call(_check_bid_ask, broker, [_Floats(t) for t in bid_ask], _at(START))
    ((_, mids, _),) = app.of("historicalTicks", 63)
    gateway.call(_check_midpoints, broker, [_Floats(t) for t in mids], _at(END))
    assert app.codes(64) == [321]  # neither start nor end
    ((_, rows),) = app.of("marketRule", 26)
    assert [(float(p.lowEdge), float(p.increment)) for p in rows] == [(0.0, 0.01)]


class _Floats:
    """An official client's tick with its Decimal (10.x) or int (9.81) sizes as floats."""

    def __init__(self, tick: Any) -> None:
        for name, value in vars(tick).items():
            setattr(self, name, float(value) if isinstance(value, Decimal) else value)
