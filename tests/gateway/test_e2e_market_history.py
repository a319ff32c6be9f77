"""History and instrument lookups end to end with ib_async and ib_insync: bars of every kind
the clients ask for, live-updating bars, head timestamps, symbol search, option chains, and
the errors TWS answers instead of data (162, 200, 321)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import pytest
from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim.script import PacingViolation

from tests.support.scenarios import run

from .e2e_support import CLIENTS, Rig, rig

NEW_YORK = dt.timezone(dt.timedelta(hours=-5))  # January: EST
END = "20231229 16:00:00 US/Eastern"  # an explicit end: a Friday, not a holiday


def _paper() -> SimBroker:
    return SimBroker(BrokerConfig(market_prices=True, create_unknown_contracts=False))


async def _aapl(r: Rig) -> Any:
    (contract,) = await r.ib.qualifyContractsAsync(r.stock("AAPL"))
    return contract


def _consistent(bars: list[Any]) -> bool:
    return all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)


@pytest.mark.parametrize("client", CLIENTS)
def test_daily_bars_are_one_per_trading_day_and_consistent(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            bars = await r.ib.reqHistoricalDataAsync(contract, "", "1 M", "1 day", "TRADES", True)
            days = [b.date for b in bars]
            assert all(isinstance(d, dt.date) and d.weekday() < 5 for d in days)
            assert days == sorted(set(days))
            assert 19 <= len(bars) <= 23  # 30 calendar days of weekdays, less NYSE's holidays
            assert _consistent(bars)
            assert all(b.volume > 0 and b.barCount > 0 for b in bars)

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_intraday_bars_in_both_date_formats_name_the_same_moments(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            end = "20231229 16:00:00 US/Eastern"  # explicit end: a Friday, not a holiday
            zoned = await r.ib.reqHistoricalDataAsync(
                contract, end, "1 D", "30 mins", "MIDPOINT", True, formatDate=1
            )
            epoch = await r.ib.reqHistoricalDataAsync(
                contract, end, "1 D", "30 mins", "MIDPOINT", True, formatDate=2
            )
            assert len(zoned) == len(epoch) == 13  # 09:30 .. 15:30
            assert [b.close for b in zoned] == [b.close for b in epoch]
            stamps = [b.date.timestamp() for b in epoch]
            assert all(b - a == 1800 for a, b in itertools.pairwise(stamps))
            first = epoch[0].date.astimezone(NEW_YORK)
            assert (first.hour, first.minute) == (9, 30)
            assert all(b.volume == -1 for b in epoch)  # MIDPOINT has no volume

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_bid_bars_sit_under_ask_bars(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            kw: dict[str, Any] = {"useRTH": True, "formatDate": 2}
            end = "20231229 16:00:00 US/Eastern"  # New Year's Day 2024 is closed
            bid = await r.ib.reqHistoricalDataAsync(contract, end, "1 D", "1 hour", "BID", **kw)
            ask = await r.ib.reqHistoricalDataAsync(contract, end, "1 D", "1 hour", "ASK", **kw)
            mid = await r.ib.reqHistoricalDataAsync(
                contract, end, "1 D", "1 hour", "MIDPOINT", **kw
            )
            both = await r.ib.reqHistoricalDataAsync(
                contract, end, "1 D", "1 hour", "BID_ASK", **kw
            )
            assert len(bid) == len(ask) == len(mid) == len(both) > 0
            for b, a, m in zip(bid, ask, mid, strict=True):
                assert b.close < a.close
                assert b.close <= m.close <= a.close
            assert _consistent(bid + ask + mid)

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_keep_up_to_date_streams_the_bar_being_built_until_cancelled(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            bars = await r.ib.reqHistoricalDataAsync(
                contract, "", "1800 S", "1 min", "TRADES", False, keepUpToDate=True
            )
            count = len(bars)
            updates: list[bool] = []
            bars.updateEvent += lambda _bars, has_new: updates.append(has_new)
            for _ in range(3):
                r.broker.advance(40)
            await r.until(lambda: True in updates)
            assert len(bars) > count
            assert _consistent(list(bars))
            r.ib.cancelHistoricalData(bars)
            await r.settle()
            seen = len(updates)
            r.broker.advance(120)
            await r.settle()
            assert len(updates) == seen

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_history_errors_are_tws_codes(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            (eur,) = await r.ib.qualifyContractsAsync(r.lib.Forex("EURUSD"))
            unknown = r.lib.Contract(conId=1, exchange="SMART")
            history = r.ib.reqHistoricalDataAsync
            live: dict[str, Any] = {"keepUpToDate": True, "timeout": 0.5}
            r.broker.script.arm(PacingViolation(symbol="AAPL"))
            refused = [
                await history(contract, "", "1 D", "1 min", "TRADES", True),  # pacing: 162
                await history(eur, "", "1 D", "1 hour", "TRADES", False),  # FX trades: 162
                await history(contract, "", "1 Y", "1 secs", "TRADES", True),  # too long: 162
                await history(unknown, "", "1 D", "1 hour", "TRADES", True),  # unknown: 200
                # 321 is a warning to ib_async: the request waits for its timeout, as on TWS
                await history(contract, "", "1 D", "7 mins", "TRADES", True, timeout=0.5),
                # live updates need an empty end: 321 ("End date not supported with live
                # updates"), a warning to the clients too
                await history(contract, END, "1 D", "1 min", "TRADES", True, **live),
            ]
            assert [len(bars) for bars in refused] == [0] * 6
            assert [code for _, code in r.errors] == [162, 162, 162, 200, 321, 321]
            assert len(await history(eur, "", "1 D", "1 hour", "MIDPOINT", False)) > 0

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_lookups_head_timestamp_symbols_and_option_chains(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, _paper()) as r:
            contract = await _aapl(r)
            head = await r.ib.reqHeadTimeStampAsync(contract, "TRADES", True, 1)
            assert head.year == 2004
            found = await r.ib.reqMatchingSymbolsAsync("SP")
            assert [d.contract.conId for d in found][:1] == [756733]
            (chain,) = await r.ib.reqSecDefOptParamsAsync("AAPL", "", "STK", contract.conId)
            assert (chain.exchange, chain.tradingClass, chain.multiplier) == (
                "SMART",
                "AAPL",
                "100",
            )
            assert len(chain.expirations) == 4
            assert len(chain.strikes) == 21
            option = r.lib.Option("AAPL", chain.expirations[0], chain.strikes[10], "P", "SMART")
            (qualified,) = await r.ib.qualifyContractsAsync(option)
            assert qualified.conId
            assert qualified.multiplier == "100"
            details = await r.ib.reqContractDetailsAsync(contract)
            assert details[0].longName == "APPLE INC"
            assert details[0].timeZoneId == "US/Eastern"
            assert details[0].liquidHours.startswith("20240102:0930-20240102:1600")
            assert not math.isnan(details[0].minTick)

    run(scenario)
