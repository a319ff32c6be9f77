"""The two example bots, run unmodified as their own processes against the paper TWS on
loopback (a `GatewayThread` around a SimBroker, so the test can look at the broker): what
each did is checked where it happened, at the broker, not in the bot's output."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from ibguard.kit.gateway.thread_host import GatewayThread
from ibguard.kit.sim import BrokerConfig, SimBroker, SimOrder

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _paper() -> SimBroker:
    """The paper TWS of `ibguard gateway`: model prices, unknown contracts refused."""
    return SimBroker(BrokerConfig(market_prices=True, create_unknown_contracts=False))


def _run_bot(
    script: str, port: int, *args: str, client_id: int
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "IB_HOST": "127.0.0.1",
        "IB_PORT": str(port),
        "IB_CLIENT_ID": str(client_id),
    }
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


@dataclass(frozen=True)
class AtTheBroker:
    """What one bot did, as the broker saw it."""

    requests: list[str]  # request names in arrival order
    orders: list[SimOrder]  # by orderId
    positions: dict[int, Decimal]  # by conId


def _bot_run(script: str, *args: str, client_id: int) -> AtTheBroker:
    broker = _paper()
    with GatewayThread(broker, follow_real_time=True) as gateway:
        done = _run_bot(script, gateway.port, *args, client_id=client_id)
        assert done.returncode == 0, done.stderr[-2000:]

        def observe() -> AtTheBroker:
            ledger = broker.ledger
            return AtTheBroker(
                requests=[r.request for r in broker.requests.all() if r.client_id == client_id],
                orders=sorted(ledger.orders.values(), key=lambda o: o.order_id),
                positions={p.contract.conId: p.position for p in ledger.positions.values()},
            )

        return gateway.call(observe)


def test_the_ib_async_bot_trades_a_bracket_modifies_the_entry_and_cancels_the_target() -> None:
    pytest.importorskip("ib_async")
    seen = _bot_run("ib_async_sma_bot.py", "--quantity", "10", "--fill-timeout", "1", client_id=17)
    requests, orders = seen.requests, seen.orders
    # it asked for history and quotes of every symbol on its list, all of them qualified
    assert requests.count("reqContractDetails") == 3
    assert requests.count("reqHistoricalData") == 3
    assert requests.count("reqMktData") == 3
    # a bracket: entry, take profit, stop; the entry was sent twice (the modify)
    assert len(orders) == 3
    entry, take_profit, stop = orders
    assert [o.order_type for o in orders] == ["LMT", "LMT", "STP"]
    assert requests.count("placeOrder") == 4
    assert entry.status == "Filled"
    assert take_profit.status == "Cancelled"
    assert stop.is_live
    assert seen.positions == {entry.contract.conId: Decimal(10)}
    assert entry.contract.conId in {265598, 272093, 756733}


def test_the_ibapi_bot_buys_cancels_its_target_and_reads_its_position() -> None:
    pytest.importorskip("ibapi")
    seen = _bot_run("ibapi_breakout_bot.py", "--symbol", "QQQ", client_id=23)
    requests, orders = seen.requests, seen.orders
    assert requests[:1] == ["startApi"]
    for asked in ("reqContractDetails", "reqHistoricalData", "reqMktData", "reqPositions"):
        assert asked in requests
    buy, target = orders
    assert (buy.action, buy.status, buy.quantity) == ("BUY", "Filled", Decimal(5))
    assert (target.action, target.status) == ("SELL", "Cancelled")
    assert seen.positions == {320227571: Decimal(5)}  # QQQ, by IB's conId
