"""What-if margins and multiplied position values end to end: unmodified ib_async, ib_insync
and official ibapi (9.81) clients against the gateway over loopback. The what-if numbers are
the Reg T model's (docs/margins.md) for the account as it stands: every stock trades at the
SimBroker's fixed 100.00, commission 1.00 a small order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ibguard.errors import ConfigError
from ibguard.kit.gateway.script_file import parse_script
from ibguard.kit.gateway.wire_faults import WireFaults
from ibguard.kit.sim import BrokerConfig, SimBroker, WhatIfAnswer
from ibguard.kit.sim.instruments import Instrument

from tests.support.scenarios import run

from .e2e_support import CLIENTS, rig

ibapi = pytest.importorskip("ibapi")
from ibapi.contract import Contract as IbapiContract  # noqa: E402 - after the importorskip
from ibapi.order import Order as IbapiOrder  # noqa: E402

from .test_e2e_market_ibapi import session  # noqa: E402 - the official client's session

D = Decimal
START_CASH = D(100_000)


def _margins(state: object) -> tuple[float, ...]:
    """(initial before, change, after; maintenance after; equity with loan before, after)."""
    names = (
        "initMarginBefore",
        "initMarginChange",
        "initMarginAfter",
        "maintMarginAfter",
        "equityWithLoanBefore",
        "equityWithLoanAfter",
    )
    return tuple(float(getattr(state, name)) for name in names)


@pytest.mark.parametrize("client", CLIENTS)
def test_what_if_answers_reg_t_numbers_and_the_accounts_position_moves_them(client: str) -> None:
    broker = SimBroker(BrokerConfig(start_cash=START_CASH))

    async def scenario() -> None:
        async with rig(client, broker) as r:
            buy = r.lib.MarketOrder("BUY", 100)
            first = await r.ib.whatIfOrderAsync(r.stock(), buy)
            assert _margins(first) == (0, 5000, 5000, 2500, 100_000, 99_999)
            assert first.warningText == ""
            trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder("BUY", 200))
            await r.until(lambda: trade.orderStatus.status == "Filled")
            again = await r.ib.whatIfOrderAsync(r.stock(), r.lib.MarketOrder("BUY", 100))
            assert _margins(again) == (10_000, 5000, 15_000, 7500, 99_999, 99_998)
            closing = await r.ib.whatIfOrderAsync(r.stock(), r.lib.MarketOrder("SELL", 200))
            assert _margins(closing)[:3] == (10_000, -10_000, 0)
            too_big = await r.ib.whatIfOrderAsync(r.stock(), r.lib.MarketOrder("BUY", 5000))
            assert float(too_big.initMarginAfter) > float(too_big.equityWithLoanAfter)
            assert "MUST EXCEED THE INITIAL MARGIN" in too_big.warningText

    run(scenario)
    assert len(broker.requests.placed()) == 1  # the what-ifs placed nothing


@pytest.mark.parametrize("client", CLIENTS)
def test_a_what_if_for_an_unknown_contract_answers_200_at_once(client: str) -> None:
    broker = SimBroker(BrokerConfig(create_unknown_contracts=False))

    async def scenario() -> None:
        async with rig(client, broker) as r:
            order = r.lib.MarketOrder("BUY", 1)
            state = await r.ib.whatIfOrderAsync(r.stock("ZZZZ"), order)
            assert not state  # the client ends the request on the error: no OrderState
            assert [code for _, code in r.errors] == [200]

    run(scenario)


def test_a_gateway_script_scripts_the_what_if_answer() -> None:
    script = parse_script('[what_if]\nmargin_ok = false\nequity_with_loan = "5000"\n')
    assert script.what_if == WhatIfAnswer(margin_ok=False, equity_with_loan=D(5000))
    broker = SimBroker()
    script.apply(broker, WireFaults())

    async def scenario() -> None:
        async with rig("ib_async", broker) as r:
            state = await r.ib.whatIfOrderAsync(r.stock(), r.lib.MarketOrder("BUY", 1))
            assert float(state.equityWithLoanAfter) == 5000
            assert "INSUFFICIENT MARGIN" in state.warningText

    run(scenario)
    assert parse_script("[account]\n").what_if is None  # no table: computed answers


def test_every_bad_what_if_field_in_a_script_is_reported_together() -> None:
    bad = '[what_if]\nmargin_ok = "no"\nequity_with_loan = -1\nwarning = 3\ncolour = 1\n'
    with pytest.raises(ConfigError) as info:
        parse_script(bad, source="case.toml")
    assert len(info.value.errors) == 4


def _option(broker: SimBroker) -> Instrument:
    calls = [i for i in broker.instruments.by_symbol("AAPL") if i.sec_type == "OPT"]
    return sorted(calls, key=lambda i: (i.last_trade_date, i.strike, i.right))[len(calls) // 2]


@pytest.mark.parametrize("client", CLIENTS)
def test_an_option_positions_portfolio_value_includes_its_multiplier(client: str) -> None:
    broker = SimBroker(BrokerConfig(market_prices=True, start_cash=START_CASH))
    o = _option(broker)

    async def scenario() -> None:
        async with rig(client, broker) as r:
            contract = r.lib.Option("AAPL", o.last_trade_date, float(o.strike), o.right, "SMART")
            (qualified,) = await r.ib.qualifyContractsAsync(contract)
            trade = r.ib.placeOrder(qualified, r.lib.MarketOrder("BUY", 3))
            await r.until(lambda: trade.orderStatus.status == "Filled")
            fill = trade.orderStatus.avgFillPrice
            await r.until(lambda: bool(r.ib.portfolio()))
            (item,) = r.ib.portfolio()
            assert item.position == 3
            assert item.marketValue == pytest.approx(3 * item.marketPrice * 100)
            assert item.averageCost == pytest.approx(fill * 100)
            assert item.unrealizedPNL == pytest.approx(3 * (item.marketPrice - fill) * 100)
            (position,) = await r.ib.reqPositionsAsync()
            assert position.avgCost == pytest.approx(fill * 100)

    run(scenario)


def test_the_official_client_gets_the_same_what_if_numbers() -> None:
    broker = SimBroker(BrokerConfig(start_cash=START_CASH))
    with session(broker) as (app, _, _):
        stock = IbapiContract()
        stock.symbol, stock.secType, stock.exchange, stock.currency = "AAPL", "STK", "SMART", "USD"
        order = IbapiOrder()
        order.action, order.orderType, order.totalQuantity = "BUY", "MKT", 100
        order.whatIf = True
        order.eTradeOnly = order.firmQuoteOnly = False  # 9.81's defaults: refused by TWS
        app.placeOrder(50, stock, order)
        app.until(lambda: bool(app.of("openOrder", 50)))
        ((_, _, echoed, state),) = app.of("openOrder", 50)
        assert echoed.whatIf
        assert _margins(state) == (0, 5000, 5000, 2500, 100_000, 99_999)
        assert float(state.commission) == 1.0
        assert state.commissionCurrency == "USD"
    assert broker.orders() == ()
