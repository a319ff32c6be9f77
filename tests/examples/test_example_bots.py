"""The two example bots, run unmodified as their own processes against `ibguard gateway` (the
CLI, a subprocess on loopback), and checked the way a team checks a paper account: a separate
ib_async client (another clientId) connects to the same gateway afterwards and reads what TWS
answers to any client: completed orders, all open orders, positions and the portfolio.

The gateway's script puts broker time on the last Saturday (the market closed, prices frozen
at Friday's close), so each run takes the same path whatever the wall clock, and pins MSFT
well above its 20-day average so the moving-average bot has one right choice."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.gateway.test_command_gateway import gateway_process
from tests.support.scenarios import run

ib_async = pytest.importorskip("ib_async")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OBSERVER_CLIENT_ID = 90
MSFT, QQQ = 272093, 320227571  # IB's conIds


def _closed_market_skew(now: datetime) -> float:
    """Seconds from `now` back to the last Saturday noon in New York: US markets are closed."""
    here = now.astimezone(ZoneInfo("America/New_York"))
    saturday = (here - timedelta(days=(here.weekday() - 5) % 7 or 7)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    return (saturday - here).total_seconds()


@pytest.fixture
def paper_tws(tmp_path: Path) -> Iterator[int]:
    """`ibguard gateway --port 0 --script ci.toml`, as a team starts it in CI; its port."""
    script = tmp_path / "ci.toml"
    skew = _closed_market_skew(datetime.now(ZoneInfo("UTC")))
    script.write_text(f'[account]\nskew_seconds = {skew:.0f}\n\n[prices]\nMSFT = "450.00"\n')
    with gateway_process("--script", str(script)) as (proc, port):
        yield port
        assert proc.poll() is None, "the gateway died under the bot"


def _run_bot(script: str, port: int, *args: str, client_id: int) -> str:
    """Run an example as a team would; returns what it logged."""
    env = {**os.environ, "IB_HOST": "127.0.0.1", "IB_PORT": str(port)}
    env["IB_CLIENT_ID"] = str(client_id)
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr  # logging's default stream


@dataclass(frozen=True)
class Account:
    """What another client of the same paper TWS sees after the bot ran."""

    completed: list[Any]  # Trades from reqCompletedOrders, in completion order
    open: list[Any]  # Trades from reqAllOpenOrders
    positions: dict[int, float]  # by conId
    portfolio: dict[int, Any]  # PortfolioItem by conId
    quotes: dict[int, tuple[float, float]]  # a snapshot's (bid, ask) by conId: frozen


def _observe(port: int, con_ids: tuple[int, ...]) -> Account:
    async def look() -> Account:
        ib = ib_async.IB()
        await ib.connectAsync("127.0.0.1", port, clientId=OBSERVER_CLIENT_ID, timeout=5)
        try:
            completed = await ib.reqCompletedOrdersAsync(apiOnly=True)
            open_trades = await ib.reqAllOpenOrdersAsync()
            positions = {p.contract.conId: p.position for p in await ib.reqPositionsAsync()}
            contracts = [ib_async.Contract(conId=c, exchange="SMART") for c in con_ids]
            await ib.qualifyContractsAsync(*contracts)
            tickers = await ib.reqTickersAsync(*contracts)
            return Account(
                completed=list(completed),
                open=list(open_trades),
                positions=positions,
                portfolio={item.contract.conId: item for item in ib.portfolio()},
                quotes={t.contract.conId: (t.bid, t.ask) for t in tickers},
            )
        finally:
            ib.disconnect()
            await asyncio.sleep(0)

    return run(look)


def _order(trade: Any) -> tuple[Any, ...]:
    o = trade.order
    return (trade.contract.conId, o.action, o.orderType, o.totalQuantity, trade.orderStatus.status)


def test_the_ib_async_bot_trades_a_bracket_modifies_the_entry_and_cancels_the_target(
    paper_tws: int,
) -> None:
    flags = ("--quantity", "10", "--fill-timeout", "1")
    logged = _run_bot("ib_async_sma_bot.py", paper_tws, *flags, client_id=17)
    seen = _observe(paper_tws, (MSFT,))
    # the bracket on MSFT, the symbol furthest above its average: the entry filled, the
    # take-profit was cancelled, the protective stop still works
    entry, take_profit = seen.completed
    assert _order(entry) == (MSFT, "BUY", "LMT", 10, "Filled")
    assert _order(take_profit) == (MSFT, "SELL", "LMT", 10, "Cancelled")
    (stop,) = seen.open
    assert _order(stop) == (MSFT, "SELL", "STP", 10, "Submitted")
    # bracketOrder numbers the parent, the take-profit and the stop one after another
    assert (stop.order.clientId, stop.order.parentId) == (17, stop.order.orderId - 2)
    assert entry.order.permId < take_profit.order.permId < stop.order.permId
    # the modify: the entry was first worked a cent under the bid (the exits are priced off
    # that first price), then raised to the ask, where it filled
    bid, ask = seen.quotes[MSFT]
    first_entry = bid - 0.01
    assert take_profit.order.lmtPrice == round(first_entry * 1.02, 2)
    assert stop.order.auxPrice == round(first_entry * 0.98, 2)
    assert (entry.order.lmtPrice, entry.order.filledQuantity) == (ask, 10)
    assert seen.positions == {MSFT: 10}
    assert seen.portfolio[MSFT].position == 10
    # reqPnL answered: the account's unrealized P&L is the one MSFT line's
    pnl = re.search(r"daily P&L (-?[\d.]+) unrealized (-?[\d.]+)", logged)
    assert pnl is not None, logged[-2000:]
    assert float(pnl[2]) == pytest.approx(seen.portfolio[MSFT].unrealizedPNL, abs=0.01)


def test_the_ibapi_bot_buys_cancels_its_target_and_reads_its_position(paper_tws: int) -> None:
    pytest.importorskip("ibapi")
    _run_bot("ibapi_breakout_bot.py", paper_tws, "--symbol", "QQQ", client_id=23)
    seen = _observe(paper_tws, (QQQ,))
    buy, target = seen.completed
    assert _order(buy) == (QQQ, "BUY", "LMT", 5, "Filled")
    assert _order(target) == (QQQ, "SELL", "LMT", 5, "Cancelled")
    assert buy.order.lmtPrice == seen.quotes[QQQ][1]  # a marketable limit at the ask
    assert seen.open == []
    assert seen.positions == {QQQ: 5}
