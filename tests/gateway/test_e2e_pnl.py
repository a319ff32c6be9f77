"""reqPnL / reqPnLSingle end to end: unmodified ib_async and ib_insync clients and both
official IBKR clients (ibapi 9.81 at server version 157, 10.x at 178) subscribe to the P&L of
TWS's Portfolio window and get it at once, then again as the market moves and fills land;
every number is checked against the broker's own position and price model, computed here
independently (position x multiplier x (mark - average cost))."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from ibguard.kit.sim import SimBroker

from tests.support.scenarios import run

from .e2e_support import CLIENTS, Rig, rig
from .ibapi_apps import contract, order
from .official_paper import OfficialPaper, paper

AAPL, MSFT = 265598, 272093
CENT = Decimal("0.01")


def _expected(broker: SimBroker, con_id: int = AAPL) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(position, unrealized, realized, market value) of the account's line, from the books
    and the price model."""
    account = broker.accounts[0]
    line = broker.ledger.positions[(account, con_id)]
    instrument = broker.instruments.by_con_id(con_id)
    assert instrument is not None
    mark = broker.market.price(instrument, broker.clock.broker_now())
    unrealized = line.position * (mark - line.avg_cost)
    value = line.position * mark
    return line.position, unrealized, line.realized_pnl, value


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT))


async def _fill(r: Rig, action: str, quantity: int) -> None:
    trade = r.ib.placeOrder(r.stock(), r.lib.MarketOrder(action, quantity))
    await r.until(trade.isDone)
    assert trade.orderStatus.status == "Filled"


@pytest.mark.parametrize("client", CLIENTS)
def test_pnl_streams_the_accounts_daily_unrealized_and_realized(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, paper()) as r:
            account = r.broker.accounts[0]
            await _fill(r, "BUY", 100)
            pnl = r.ib.reqPnL(account)
            single = r.ib.reqPnLSingle(account, "", AAPL)
            await r.until(lambda: not math.isnan(pnl.unrealizedPnL) and single.position == 100)
            _, unrealized, _, value = _expected(r.broker)
            assert pnl.unrealizedPnL == _money(unrealized)
            assert pnl.dailyPnL == pnl.unrealizedPnL  # opened today: from the fill price
            assert pnl.realizedPnL == 0
            assert (single.unrealizedPnL, single.value) == (_money(unrealized), _money(value))
            r.broker.advance(90)  # the market moves: the next second's answer follows it
            _, moved, _, _ = _expected(r.broker)
            assert moved != unrealized
            await r.until(lambda: pnl.unrealizedPnL == _money(moved))
            await _fill(r, "SELL", 40)
            r.broker.advance(1)
            position, left, realized, value = _expected(r.broker)
            assert (position, realized != 0) == (60, True)
            await r.until(lambda: single.position == 60)
            assert (single.unrealizedPnL, single.realizedPnL) == (_money(left), _money(realized))
            assert single.value == _money(value)
            assert single.dailyPnL == _money(left + realized)
            assert pnl.realizedPnL == _money(realized)

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_cancel_stops_the_stream_and_an_unheld_conid_gets_nothing(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, paper()) as r:
            account = r.broker.accounts[0]
            pnl = r.ib.reqPnL(account)
            unheld = r.ib.reqPnLSingle(account, "", MSFT)
            await r.until(lambda: pnl.dailyPnL == 0)  # no positions: zeros, at once
            assert r.broker.pnl.subscriptions == 2
            r.ib.cancelPnL(account)
            await r.until(lambda: r.broker.pnl.subscriptions == 1)
            await _fill(r, "BUY", 10)
            r.broker.advance(5)
            await r.settle()
            assert pnl.dailyPnL == 0  # cancelled: the fill is never heard of
            assert math.isnan(unheld.dailyPnL)  # no MSFT position: TWS says nothing

    run(scenario)


@pytest.mark.parametrize("client", CLIENTS)
def test_an_account_the_login_does_not_manage_is_321(client: str) -> None:
    async def scenario() -> None:
        async with rig(client, paper()) as r:
            r.ib.reqPnL("DU0000000")
            await r.until(lambda: bool(r.errors))
            assert [code for _, code in r.errors] == [321]
            assert r.broker.pnl.subscriptions == 0

    run(scenario)


def _numbers(args: tuple[Any, ...]) -> tuple[float, ...]:
    return tuple(float(a) for a in args[1:])  # after the reqId; 10.x's pos is a Decimal


def test_the_official_clients_get_pnl_and_pnl_single(
    official_paper: OfficialPaper,
) -> None:
    app, broker, gateway = official_paper
    account = broker.accounts[0]
    order_id = app.next_order_id
    app.request("placeOrder", order_id, contract(), order(quantity=100, order_type="MKT"))
    app.until(lambda: any(a[1] == "Filled" for a in app.of("orderStatus", order_id)))
    app.request("reqPnL", 41, account, "")
    app.request("reqPnLSingle", 42, account, "", AAPL)
    app.request("reqPnLSingle", 43, account, "", MSFT)
    app.request("reqPnL", 44, "DU0000000", "")
    app.until(lambda: bool(app.of("pnl", 41) and app.of("pnlSingle", 42) and app.of("error", 44)))
    position, unrealized, _, value = gateway.call(_expected, broker)
    daily, unrealized_got, realized = _numbers(app.of("pnl", 41)[0])
    assert (daily, unrealized_got, realized) == (_money(unrealized), _money(unrealized), 0.0)
    got = _numbers(app.of("pnlSingle", 42)[0])
    # pos, daily, unrealized, realized (traded today), value
    assert got == (100.0, _money(unrealized), _money(unrealized), 0.0, _money(value))
    assert app.codes(44) == [321]
    gateway.call(broker.advance, 90)
    _, moved, _, _ = gateway.call(_expected, broker)
    app.until(lambda: _numbers(app.of("pnl", 41)[-1])[1] == _money(moved))
    app.request("cancelPnLSingle", 42)
    app.request("cancelPnL", 41)
    app.until(lambda: gateway.call(lambda: broker.pnl.subscriptions) == 1)  # 43 is left
    assert app.of("pnlSingle", 43) == []  # no MSFT position: nothing
    assert position == 100


def test_help_lists_the_pnl_and_tick_requests_and_says_what_happens_to_unserved_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ibguard.kit.cli import main
    from ibguard.kit.gateway import inbound_pnl, inbound_ticks

    with pytest.raises(SystemExit):
        main(["gateway", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    names = [*inbound_pnl.__all__, *inbound_ticks.__all__]
    for name in (n for n in names if n.startswith("Req")):
        assert name[0].lower() + name[1:] in shown, name
    assert "answered with error 321" in shown
    assert "logged at WARNING" in shown
    assert "left unanswered" not in shown
