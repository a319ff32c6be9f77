"""Wire faults at the gateway, seen on a raw socket: drop after N frames, delay, duplicate,
reorder; and their bookkeeping (consumed once, matched by clientId and message id)."""

from __future__ import annotations

import asyncio
import time

import pytest
from ibguard.engine.errors import UsageError
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.wire_faults import Treatment, WireFaults
from ibguard.kit.sim import SimBroker

from tests.support.scenarios import run

from .test_server import QUIET, RawClient, gateway, ids


def test_drop_after_n_frames_closes_the_socket_and_the_broker_session() -> None:
    broker = SimBroker(QUIET)

    async def scenario() -> list[tuple[str, ...]]:
        async with gateway(broker) as gw:
            gw.faults.drop_after(3, client_id=1)
            client = await RawClient.open(gw.port)
            await client.start(1)  # accounts, nextValidId: 2 of the 3
            client.place(1, "AAPL", "BUY", 1)
            got = [await client.next()]  # openOrder, then the socket dies
            assert await client.closed_by_server()
            return got

    assert ids(run(scenario)) == [Out.OPEN_ORDER]
    assert broker.sessions() == ()
    # the broker received the order and filled it; the client never heard
    assert broker.position("AAPL") == 1


def test_drop_after_zero_drops_at_the_next_matching_frame_unsent() -> None:
    async def scenario() -> None:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            await client.start(1)
            gw.faults.drop_after(0, msg_id=Out.EXECUTION_DATA)
            client.place(1, "AAPL", "BUY", 1)
            frames: list[tuple[str, ...]] = []
            try:
                while True:
                    frames.append(await client.next())
            except ConnectionResetError:
                pass  # the drop
            assert Out.EXECUTION_DATA not in ids(frames)
            assert ids(frames)[-1] == Out.ORDER_STATUS

    run(scenario)


def test_delay_holds_back_the_frame_and_everything_behind_it() -> None:
    async def scenario() -> tuple[float, list[int]]:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            await client.start(1)
            gw.faults.delay(0.3, msg_id=Out.OPEN_ORDER)
            started = time.perf_counter()
            client.place(1, "AAPL", "BUY", 1)
            frames = await client.until(Out.COMMISSION_REPORT)
            client.close()
            return time.perf_counter() - started, ids(frames)

    elapsed, order = run(scenario)
    assert elapsed >= 0.3
    assert order[:2] == [Out.OPEN_ORDER, Out.ORDER_STATUS]  # order kept


def test_duplicate_next_sends_the_frame_twice() -> None:
    async def scenario() -> list[int]:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            await client.start(1)
            gw.faults.duplicate_next(msg_id=Out.EXECUTION_DATA)
            client.place(1, "AAPL", "BUY", 1)
            frames = await client.until(Out.COMMISSION_REPORT)
            client.close()
            return ids(frames)

    order = run(scenario)
    assert order[-3:] == [Out.EXECUTION_DATA, Out.EXECUTION_DATA, Out.COMMISSION_REPORT]


def test_reorder_next_swaps_a_frame_with_the_one_after_it() -> None:
    async def scenario() -> list[int]:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            await client.start(1)
            gw.faults.reorder_next(msg_id=Out.EXECUTION_DATA)
            client.place(1, "AAPL", "BUY", 1)
            frames = await client.until(Out.EXECUTION_DATA)
            client.close()
            return ids(frames)

    assert run(scenario)[-2:] == [Out.COMMISSION_REPORT, Out.EXECUTION_DATA]


def test_faults_match_client_id_and_are_consumed_once() -> None:
    faults = WireFaults()
    faults.duplicate_next(client_id=2)
    faults.delay(0.1, messages=2)
    assert faults.treat(1, 9) == Treatment(delay=0.1)
    assert faults.treat(2, 9) == Treatment(copies=2, delay=0.1)
    assert faults.treat(2, 9) == Treatment()
    assert faults.pending == 0


@pytest.mark.parametrize(
    "arm",
    [
        lambda f: f.drop_after(-1),
        lambda f: f.delay(0),
        lambda f: f.delay(60),
        lambda f: f.duplicate_next(0),
    ],
    ids=["negative-drop", "zero-delay", "long-delay", "zero-copies"],
)
def test_bad_fault_arguments_are_usage_errors(arm: object) -> None:
    with pytest.raises(UsageError):
        arm(WireFaults())  # type: ignore[operator]


def test_stop_does_not_wait_for_delayed_frames() -> None:
    async def scenario() -> float:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            await client.start(1)
            gw.faults.delay(5)
            client.send("49", "1")
            await asyncio.sleep(0.05)
            started = time.perf_counter()
        return time.perf_counter() - started

    assert run(scenario) < 1.0
