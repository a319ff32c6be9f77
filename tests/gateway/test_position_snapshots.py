"""Position and portfolio snapshots: a newer one replaces an older one still queued for the
same socket (`kit/gateway/outgoing.py`), so a burst of fills sends each subscriber the final
values with fewer frames than fills, while answers keep every row, wire faults act on the
frames they saw, and real ib_async / ib_insync clients end each burst holding the broker's
positions, portfolio and P&L."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from ibguard.kit.gateway.framing import encode
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.outgoing import OutgoingFrames
from ibguard.kit.sim import SimBroker
from ibguard.kit.sim.messages import Message, PortfolioValue

from tests.support.scenarios import run

from .e2e_support import CLIENT_ID, CLIENTS, Rig, connect, rig
from .raw_client import RawClient, gateway

AAPL = 265598  # the SimBroker's conId of AAPL
AAPL_POSITION = (61, "DU1", 8314)
AAPL_PORTFOLIO = (7, "DU1", 8314)


# --- the queue, sans IO -----------------------------------------------------------------------


def test_a_newer_snapshot_replaces_the_queued_one_and_takes_its_own_place() -> None:
    queue = OutgoingFrames()
    queue.append(b"execDetails 1 ")
    assert queue.append_snapshot(AAPL_POSITION, b"position 1 ") is False
    queue.append(b"execDetails 2 ")
    assert queue.append_snapshot(AAPL_POSITION, b"position 2 ") is True
    assert queue.take() == b"execDetails 1 execDetails 2 position 2 "
    assert not queue


def test_snapshots_of_another_kind_account_or_contract_are_all_kept() -> None:
    queue = OutgoingFrames()
    for key in (AAPL_POSITION, AAPL_PORTFOLIO, (61, "DU2", 8314), (61, "DU1", 272093)):
        assert queue.append_snapshot(key, f"{key} ".encode()) is False
    assert queue.take().count(b")") == 4


def test_nothing_queued_before_a_barrier_or_a_write_is_replaced() -> None:
    queue = OutgoingFrames()
    queue.append_snapshot(AAPL_POSITION, b"row ")
    queue.barrier()  # positionEnd
    assert queue.append_snapshot(AAPL_POSITION, b"live 1 ") is False
    assert queue.take() == b"row live 1 "
    assert queue.append_snapshot(AAPL_POSITION, b"live 2 ") is False  # a new write
    assert queue.take() == b"live 2 "


# --- over a raw socket --------------------------------------------------------------------------


def _fields(frames: list[tuple[str, ...]], msg_id: int) -> list[tuple[str, ...]]:
    return [f for f in frames if f[0] == str(int(msg_id))]


async def _subscribed(port: int, client_id: int, account: str) -> RawClient:
    client = await RawClient.open(port)
    await client.start(client_id)
    client.send("61", "1")  # reqPositions
    await client.until(Out.POSITION_END)
    client.send("6", "2", "1", account)  # reqAccountUpdates
    await client.until(Out.ACCOUNT_DOWNLOAD_END)
    return client


async def _everything_sent(client: RawClient) -> list[tuple[str, ...]]:
    """Frames up to the answer of a reqCurrentTime sent now: all that was queued before it."""
    client.send("49", "1")
    return await client.until(Out.CURRENT_TIME)


def _burst(trader: RawClient, first_id: int, sides: list[tuple[str, int]]) -> bytes:
    """placeOrder bytes of market orders, one write: the gateway serves them in one step."""
    from ib_async import MarketOrder, Stock

    stock = Stock("AAPL", "SMART", "USD")
    return b"".join(
        trader.client_bytes(lambda c, n=n, a=a, q=q: c.placeOrder(n, stock, MarketOrder(a, q)))
        for n, (a, q) in enumerate(sides, start=first_id)
    )


def test_a_burst_of_fills_sends_each_watcher_one_position_and_portfolio_line_the_last() -> None:
    broker = SimBroker()
    sides = [("BUY", 5), ("BUY", 3), ("SELL", 2), ("BUY", 1), ("SELL", 4), ("BUY", 7)]

    async def scenario() -> list[list[tuple[str, ...]]]:
        async with gateway(broker) as gw:
            account = broker.accounts[0]
            trader = await RawClient.open(gw.port)
            await trader.start(1)
            watchers = [await _subscribed(gw.port, cid, account) for cid in (2, 3)]
            trader.writer.write(_burst(trader, 1, sides))
            for _ in sides:
                await trader.until(Out.COMMISSION_REPORT)
            got = [await _everything_sent(w) for w in watchers]
            for client in (trader, *watchers):
                client.close()
            return got

    watched = run(scenario)
    line = broker.ledger.positions[(broker.accounts[0], AAPL)]
    assert line.position == 10
    for frames in watched:
        positions = _fields(frames, Out.POSITION_DATA)
        assert [(Decimal(f[-2]), Decimal(f[-1])) for f in positions] == [
            (line.position, line.average_cost)
        ]
        (portfolio,) = _fields(frames, Out.PORTFOLIO_VALUE)
        assert Decimal(portfolio[13]) == 10  # position, after the 11-field contract block


ANSWERS = {  # request: (its fields, its rows' message id, its end, a row's position field)
    "reqPositions": (["61", "1"], Out.POSITION_DATA, Out.POSITION_END, -2),
    "reqAccountUpdates": (
        ["6", "2", "1", "DU1234567"],
        Out.PORTFOLIO_VALUE,
        Out.ACCOUNT_DOWNLOAD_END,
        13,
    ),
}


@pytest.mark.parametrize("request_name", ANSWERS)
def test_an_answer_keeps_its_row_before_its_end(request_name: str) -> None:
    """Fills, then the request, then fills, served in one step: the live lines before the
    answer give way to its row, which the later live line does not replace."""
    request, row, end, position = ANSWERS[request_name]
    broker = SimBroker()

    async def scenario() -> list[tuple[str, ...]]:
        async with gateway(broker) as gw:
            client = await _subscribed(gw.port, 1, broker.accounts[0])
            buys = [("BUY", 1)] * 3
            client.writer.write(_burst(client, 1, buys) + encode(request) + _burst(client, 4, buys))
            frames = []
            while len(_fields(frames, Out.COMMISSION_REPORT)) < 6:
                frames.append(await client.next())
            frames += await _everything_sent(client)
            client.close()
            return frames

    stream = [f for f in run(scenario) if f[0] in (str(int(row)), str(int(end)))]
    assert [f[position] if f[0] == str(int(row)) else "end" for f in stream] == ["3", "end", "6"]


def test_a_wire_fault_acts_on_a_real_position_frame_which_no_later_one_replaces() -> None:
    broker = SimBroker()

    async def scenario() -> list[tuple[str, ...]]:
        async with gateway(broker) as gw:
            trader = await RawClient.open(gw.port)
            await trader.start(1)
            watcher = await _subscribed(gw.port, 2, broker.accounts[0])
            gw.faults.duplicate_next(1, client_id=2, msg_id=Out.POSITION_DATA)
            trader.writer.write(_burst(trader, 1, [("BUY", 1)] * 4))
            for _ in range(4):
                await trader.until(Out.COMMISSION_REPORT)
            frames = await _everything_sent(watcher)
            assert gw.faults.pending == 0
            trader.close()
            watcher.close()
            return frames

    positions = [f[-2] for f in _fields(run(scenario), Out.POSITION_DATA)]
    assert positions == ["1", "1", "4"]  # the first fill's line twice, then the last


# --- unmodified clients ------------------------------------------------------------------------


def _brokers_portfolio(broker: SimBroker) -> list[PortfolioValue]:
    """The broker's own answer to a fresh reqAccountUpdates, taken in process."""
    got: list[Message] = []
    session = broker.connect(CLIENT_ID + 90, got.append)
    session.req_account_updates(True, broker.accounts[0])
    session.disconnect()
    return [m for m in got if isinstance(m, PortfolioValue)]


def _as_floats(item: Any) -> tuple[float, ...]:
    return tuple(
        float(getattr(item, name))
        for name in ("position", "marketValue", "averageCost", "unrealizedPNL", "realizedPNL")
    )


@pytest.mark.parametrize("client", CLIENTS)
def test_clients_hold_the_brokers_positions_portfolio_and_pnl_after_every_burst(
    client: str,
) -> None:
    """A trader and a watcher, three bursts of market orders: after each, both hold the
    broker's position and portfolio line and the watcher's reqPnLSingle the broker's P&L,
    having heard fewer position and portfolio lines than there were fills."""
    broker = SimBroker()
    bursts = [
        ("100", [("BUY", 10), ("BUY", 5), ("SELL", 3), ("BUY", 2)]),
        ("101.5", [("SELL", 6), ("SELL", 6), ("BUY", 1)]),
        ("99.25", [("SELL", 1), ("SELL", 2), ("BUY", 4), ("SELL", 2)]),
    ]

    async def scenario() -> tuple[int, Counter[str]]:
        async with rig(client, broker) as r:
            watcher = await connect(r.lib, r.gateway.port, CLIENT_ID + 1)
            heard: Counter[str] = Counter()
            watcher.positionEvent += lambda *_: heard.update(["position"])
            watcher.updatePortfolioEvent += lambda *_: heard.update(["portfolio"])
            try:
                pnl = watcher.reqPnLSingle(broker.accounts[0], "", AAPL)
                fills = 0
                for price, burst in bursts:
                    broker.set_price("AAPL", Decimal(price))
                    trades = [r.ib.placeOrder(r.stock(), r.lib.MarketOrder(a, q)) for a, q in burst]
                    fills += len(trades)
                    await r.until(lambda trades=trades: all(t.isDone() for t in trades))
                    await _hold_the_brokers_books(r, (r.ib, watcher), pnl)
                return fills, heard
            finally:
                watcher.disconnect()

    fills, heard = run(scenario)
    assert 0 < heard["position"] < fills
    assert 0 < heard["portfolio"] < fills


async def _hold_the_brokers_books(r: Rig, clients: tuple[Any, ...], pnl: Any) -> None:
    (expected,) = _brokers_portfolio(r.broker)
    want = _as_floats(expected)
    for ib in clients:
        await r.until(
            lambda ib=ib: (
                [_as_floats(i) for i in ib.portfolio()] == [want]
                and [(p.position, p.avgCost) for p in ib.positions()] == [(want[0], want[2])]
            )
        )
    r.broker.advance(1)  # the P&L's next second
    unrealized, realized = want[3], want[4]
    await r.until(
        lambda: (
            (pnl.position, pnl.unrealizedPnL, pnl.realizedPnL) == (want[0], unrealized, realized)
        )
    )
