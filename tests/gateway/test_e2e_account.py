"""End to end, account level: unmodified ib_async / ib_insync clients see the simulated
account's values, portfolio and summary (reqAccountUpdates / Multi / reqAccountSummary)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim.account_stream import ACCOUNT_REFRESH

from tests.support.scenarios import run

from .e2e_support import CLIENTS, client_module, connect, rig

ACCOUNT = "DU1234567"
FAST_CONNECT_SECONDS = 1.0


def _values(ib: object, tag: str) -> dict[tuple[str, str], str]:
    rows = ib.accountValues()  # type: ignore[attr-defined]
    return {(v.account, v.currency): v.value for v in rows if v.tag == tag}


@pytest.mark.parametrize("client", CLIENTS)
def test_connect_downloads_account_values_and_stays_fast(client: str) -> None:
    lib = client_module(client)
    broker = SimBroker(BrokerConfig(start_cash=Decimal("250000")))

    async def scenario() -> float:
        async with Gateway(broker) as gateway:
            started = time.perf_counter()
            ib = await connect(lib, gateway.port, timeout=4)
            elapsed = time.perf_counter() - started
            try:
                assert _values(ib, "NetLiquidation") == {(ACCOUNT, "USD"): "250000.00"}
                assert _values(ib, "TotalCashValue") == {(ACCOUNT, "USD"): "250000.00"}
                assert _values(ib, "AccountCode") == {(ACCOUNT, ""): ACCOUNT}
                tags = {v.tag for v in ib.accountValues()}
                assert {
                    "BuyingPower",
                    "AvailableFunds",
                    "EquityWithLoanValue",
                    "InitMarginReq",
                    "MaintMarginReq",
                    "GrossPositionValue",
                    "UnrealizedPnL",
                    "RealizedPnL",
                } <= tags
                assert ib.portfolio() == []
            finally:
                ib.disconnect()
            return elapsed

    assert run(scenario) < FAST_CONNECT_SECONDS


@pytest.mark.parametrize("client", CLIENTS)
def test_a_fill_streams_the_portfolio_and_account_values(client: str) -> None:
    broker = SimBroker()
    broker.set_price("AAPL", Decimal("123.45"))

    async def scenario() -> None:
        async with rig(client, broker) as r:
            trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 10))
            await r.until(trade.isDone)
            await r.until(lambda: len(r.ib.portfolio()) == 1)
            item = r.ib.portfolio()[0]
            assert item.contract.symbol == "AAPL"
            assert item.account == "DU1234567"
            assert item.position == 10
            assert item.marketPrice == pytest.approx(123.45)
            assert item.marketValue == pytest.approx(1234.5)
            assert item.averageCost == pytest.approx(123.45)
            assert item.unrealizedPNL == 0
            # cash paid 1234.50 and a 1.00 minimum commission, sent on TWS's cadence
            broker.advance(ACCOUNT_REFRESH.total_seconds())
            await r.until(
                lambda: _values(r.ib, "TotalCashValue") == {(ACCOUNT, "USD"): "998764.50"}
            )
            assert _values(r.ib, "NetLiquidation") == {(ACCOUNT, "USD"): "999999.00"}
            assert _values(r.ib, "GrossPositionValue") == {(ACCOUNT, "USD"): "1234.50"}

            broker.set_price("AAPL", Decimal("130"))
            sell = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("SELL", 4))
            await r.until(sell.isDone)
            await r.until(lambda: r.ib.portfolio()[0].position == 6)
            item = r.ib.portfolio()[0]
            assert item.marketValue == pytest.approx(780)
            assert item.realizedPNL == pytest.approx(26.2)
            assert item.unrealizedPNL == pytest.approx(39.3)

            sell_rest = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("SELL", 6))
            await r.until(sell_rest.isDone)
            await r.until(lambda: r.ib.portfolio() == [])  # a flat position leaves

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_account_summary_answers_the_tags(client: str) -> None:
    async def scenario() -> None:
        async with rig(client) as r:
            rows = await r.ib.accountSummaryAsync()
            by_tag = {v.tag: (v.account, v.value, v.currency) for v in rows}
            assert by_tag["NetLiquidation"] == (ACCOUNT, "1000000.00", "USD")
            assert by_tag["BuyingPower"] == (ACCOUNT, "4000000.00", "USD")
            assert by_tag["AccountType"] == (ACCOUNT, "INDIVIDUAL", "")
            assert {"TotalCashValue", "AvailableFunds", "MaintMarginReq"} <= set(by_tag)

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_two_accounts_get_account_update_multi_rows(client: str) -> None:
    broker = SimBroker(BrokerConfig(accounts=("DU111", "DU222")))

    async def scenario() -> None:
        started = time.perf_counter()
        async with rig(client, broker) as r:
            assert time.perf_counter() - started < FAST_CONNECT_SECONDS
            assert _values(r.ib, "NetLiquidation") == {
                ("DU111", "USD"): "1000000.00",
                ("DU222", "USD"): "1000000.00",
            }

    run(scenario)
