"""Exchange holidays over the wire: contract details say ``YYYYMMDD:CLOSED`` for Thanksgiving
and daily history has no bar for it, as TWS answers (ib_async and ib_insync)."""

from __future__ import annotations

import datetime as dt

import pytest
from ibguard.kit.sim import BrokerConfig, SimBroker

from tests.support.scenarios import run

from .e2e_support import CLIENTS, rig

THANKSGIVING = dt.date(2026, 11, 26)
# the Monday after Thanksgiving 2026, at the open (14:30 UTC = 09:30 New York)
START = dt.datetime(2026, 11, 30, 14, 30, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("client", CLIENTS)
def test_daily_history_has_no_bar_for_thanksgiving(client: str) -> None:
    broker = SimBroker(BrokerConfig(market_prices=True, start=START))

    async def scenario() -> None:
        async with rig(client, broker) as r:
            (contract,) = await r.ib.qualifyContractsAsync(r.stock("AAPL"))
            bars = await r.ib.reqHistoricalDataAsync(contract, "", "2 W", "1 day", "TRADES", True)
            days = [b.date for b in bars]
            assert dt.date(2026, 11, 25) in days
            assert dt.date(2026, 11, 27) in days
            assert THANKSGIVING not in days

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_contract_details_in_thanksgiving_week_say_closed(client: str) -> None:
    start = dt.datetime(2026, 11, 24, 14, 30, tzinfo=dt.timezone.utc)
    broker = SimBroker(BrokerConfig(market_prices=True, start=start))

    async def scenario() -> None:
        async with rig(client, broker) as r:
            (details,) = await r.ib.reqContractDetailsAsync(r.stock("AAPL"))
            sessions = details.liquidHours.split(";")
            assert sessions[:4] == [
                "20261124:0930-20261124:1600",
                "20261125:0930-20261125:1600",
                "20261126:CLOSED",
                "20261127:0930-20261127:1600",
            ]

    run(scenario)
