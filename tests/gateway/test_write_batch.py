"""The gateway's write batch: what connections queue in one step of the event loop is written
once that step is done, each connection once, in the order they asked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.write_batch import WriteBatch

from tests.support.scenarios import run

from .raw_client import RawClient, gateway


def test_flushes_asked_for_in_one_step_run_once_after_it_in_order() -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        batch, flushed = WriteBatch(), []
        batch.add(lambda: flushed.append("first socket"))
        batch.add(lambda: flushed.append("second socket"))
        during_the_step = list(flushed)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return during_the_step, flushed

    assert run(scenario) == ([], ["first socket", "second socket"])


def test_a_later_step_gets_its_own_flush() -> None:
    async def scenario() -> list[str]:
        batch, flushed = WriteBatch(), []
        batch.add(lambda: flushed.append("step 1"))
        await asyncio.sleep(0)
        batch.add(lambda: flushed.append("step 2"))
        await asyncio.sleep(0)
        return flushed

    assert run(scenario) == ["step 1", "step 2"]


def test_a_fill_reaches_each_watching_socket_in_one_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two watchers stream positions and the account; one fill of the trader sends each of
    them a position and a portfolio line: one write (one send call) per watcher, not two."""
    writes: list[tuple[int, bytes]] = []  # (client's port, bytes) of the gateway's writes
    real_write = asyncio.StreamWriter.write

    def counting_write(writer: asyncio.StreamWriter, data: Any) -> None:
        if writer.get_extra_info("sockname")[1] == port:
            writes.append((writer.get_extra_info("peername")[1], bytes(data)))
        real_write(writer, data)

    port = 0

    async def scenario() -> list[int]:
        nonlocal port
        async with gateway() as gw:
            port = gw.port
            trader = await RawClient.open(gw.port)
            await trader.start(1)
            watchers = [await RawClient.open(gw.port) for _ in range(2)]
            for client_id, watcher in enumerate(watchers, start=2):
                await watcher.start(client_id)
                watcher.send("61", "1")  # reqPositions
                await watcher.until(Out.POSITION_END)
                watcher.send("6", "2", "1", gw.broker.accounts[0])  # reqAccountUpdates
                await watcher.until(Out.ACCOUNT_DOWNLOAD_END)
            monkeypatch.setattr(asyncio.StreamWriter, "write", counting_write)
            trader.place(1, "AAPL", "BUY", 1)
            await trader.until(Out.COMMISSION_REPORT)
            for watcher in watchers:
                got = await watcher.until(Out.POSITION_DATA)
                if all(fields[0] != str(int(Out.PORTFOLIO_VALUE)) for fields in got):
                    await watcher.until(Out.PORTFOLIO_VALUE)
            peers = [w.writer.get_extra_info("sockname")[1] for w in watchers]
            for client in (trader, *watchers):
                client.close()
            return [sum(1 for peer, _ in writes if peer == p) for p in peers]

    assert run(scenario) == [1, 1]


def test_before_any_loop_served_a_frame_a_flush_runs_at_once() -> None:
    flushed: list[str] = []
    WriteBatch().add(lambda: flushed.append("frame"))
    assert flushed == ["frame"]
