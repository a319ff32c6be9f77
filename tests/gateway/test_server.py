"""The gateway server over raw loopback sockets: handshake, message order on the wire, bad
peers closed one by one with log codes, unknown requests ignored, stop() ends everything."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from ibguard.kit.gateway.logcodes import GatewayLogCode
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim import SimBroker

from tests.support.scenarios import run

from .raw_client import QUIET, RawClient, gateway, ids


def test_handshake_negotiates_the_clients_maximum_within_range() -> None:
    async def scenario() -> list[int]:
        async with gateway(max_version=176) as gw:
            versions = []
            for low, high in ((157, 178), (157, 160), (157, 157)):
                client = await RawClient.open(gw.port, low, high)
                versions.append(client.version)
                client.close()
            return versions

    assert run(scenario) == [176, 160, 157]


def test_start_api_answers_accounts_then_next_valid_id() -> None:
    async def scenario() -> list[tuple[str, ...]]:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            frames = await client.start(5)
            client.close()
            return frames

    assert run(scenario) == [("15", "1", "DU1234567"), ("9", "1", "1")]


def test_live_fill_sends_open_order_before_exec_details_with_req_id_minus_one() -> None:
    async def scenario() -> list[tuple[str, ...]]:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            await client.start(5)
            client.place(1, "AAPL", "BUY", 10)
            frames = await client.until(Out.COMMISSION_REPORT)
            client.close()
            return frames

    frames = run(scenario)
    assert ids(frames) == [
        Out.OPEN_ORDER,
        Out.ORDER_STATUS,
        Out.OPEN_ORDER,
        Out.ORDER_STATUS,
        Out.EXECUTION_DATA,
        Out.COMMISSION_REPORT,
    ]
    assert frames[4][1] == "-1"  # reqId of a live execution


def test_malformed_frame_closes_only_that_session_with_a_log_code(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = SimBroker(QUIET)

    async def scenario() -> None:
        async with gateway(broker) as gw:
            good = await RawClient.open(gw.port)
            await good.start(1)
            bad = await RawClient.open(gw.port)
            await bad.start(2)
            bad.writer.write(b"\x00\x00\x00\x02ab")  # no NUL terminator
            assert await bad.closed_by_server()
            good.send("49", "1")
            (now,) = await good.until(Out.CURRENT_TIME)
            assert now[2] == str(int(broker.clock.broker_now().timestamp()))
            assert [c.client_id for c in gw.connections()] == [1]
            good.close()

    with caplog.at_level(logging.INFO, logger="ibguard.kit.gateway"):
        run(scenario)
    codes = [getattr(r, "code", None) for r in caplog.records]
    assert GatewayLogCode.PEER_PROTOCOL_ERROR in codes
    assert [s.client_id for s in broker.sessions()] == []


@pytest.mark.parametrize(
    "opening",
    [b"GET / HTTP/1.1\r\n\r\n", b"API\0\x00\x00\x00\x04v1.."],
    ids=["not-api", "bad-range"],  # a valid range the gateway cannot serve: test_hostile_peers
)
def test_bad_handshakes_are_closed(opening: bytes, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with gateway() as gw:
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            writer.write(opening)
            assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()

    with caplog.at_level(logging.INFO, logger="ibguard.kit.gateway"):
        run(scenario)
    assert GatewayLogCode.PEER_PROTOCOL_ERROR in [getattr(r, "code", None) for r in caplog.records]


def test_request_before_start_api_is_a_peer_error() -> None:
    async def scenario() -> None:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            client.send("49", "1")
            assert await client.closed_by_server()

    run(scenario)


def test_unserved_requests_are_answered_with_an_error_and_logged_at_warning_by_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> list[tuple[str, ...]]:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            await client.start(3)
            client.send("24", "1")  # reqScannerParameters: not served, no request id
            client.send("10", "5", "17")  # reqMktDepth 17: not served
            client.send("11", "1", "17")  # cancelMktDepth: nothing to answer
            client.send("49", "1")
            frames = await client.until(Out.CURRENT_TIME)
            client.close()
            return frames

    with caplog.at_level(logging.INFO, logger="ibguard.kit.gateway"):
        frames = run(scenario)
    errors = [(f[2], f[3]) for f in frames if f[0] == "4"]
    assert errors == [("-1", "321"), ("17", "321")]
    assert frames[-1][0] == "49"  # the session goes on
    unknown = [
        r for r in caplog.records if getattr(r, "code", None) is GatewayLogCode.UNKNOWN_REQUEST
    ]
    assert [(r.levelno, getattr(r, "request", None)) for r in unknown] == [
        (logging.WARNING, "reqScannerParameters"),
        (logging.WARNING, "reqMktDepth"),
        (logging.WARNING, "cancelMktDepth"),
    ]


def test_client_closing_its_socket_ends_the_broker_session() -> None:
    broker = SimBroker(QUIET)

    async def scenario() -> None:
        async with gateway(broker) as gw:
            client = await RawClient.open(gw.port)
            await client.start(4)
            assert [s.client_id for s in broker.sessions()] == [4]
            client.close()
            for _ in range(100):
                if not broker.sessions():
                    break
                await asyncio.sleep(0.01)
            assert broker.sessions() == ()
            assert gw.connections() == ()

    run(scenario)


def test_stop_closes_every_connection_and_is_idempotent() -> None:
    broker = SimBroker(QUIET)

    async def scenario() -> None:
        gw = Gateway(broker)
        await gw.start()
        clients = [await RawClient.open(gw.port) for _ in range(3)]
        for cid, client in enumerate(clients, start=1):
            await client.start(cid)
        await gw.stop()
        await gw.stop()
        for client in clients:
            assert await client.closed_by_server()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", gw.port)

    run(scenario)
    assert broker.sessions() == ()


def test_follow_real_time_moves_broker_time_with_the_loop() -> None:
    broker = SimBroker(QUIET)
    start = broker.clock.broker_now()

    async def scenario() -> None:
        async with gateway(broker, follow_real_time=True) as gw:
            client = await RawClient.open(gw.port)
            await client.start(1)
            await asyncio.sleep(0.2)
            client.send("49", "1")
            await client.until(Out.CURRENT_TIME)
            client.close()

    run(scenario)
    assert broker.clock.broker_now() - start >= timedelta(seconds=0.2)


def test_stats_count_frames_both_ways() -> None:
    async def scenario() -> tuple[int, int, int]:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            await client.start(1)
            client.place(1, "AAPL", "BUY", 1)
            await client.until(Out.COMMISSION_REPORT)
            s = gw.stats()
            client.close()
            return s.connections, s.messages_in, s.messages_out

    # in: hello, startApi, placeOrder; out: hello, accounts, id, 2 x (openOrder, status),
    # execDetails, commission
    assert run(scenario) == (1, 3, 9)


def test_position_updates_stream_after_req_positions() -> None:
    async def scenario() -> list[tuple[str, ...]]:
        async with gateway() as gw:
            client = await RawClient.open(gw.port)
            await client.start(1)
            client.send("61", "1")
            await client.until(Out.POSITION_END)
            gw.broker.inject_order(
                client_id=1, symbol="AAPL", action="BUY", quantity=Decimal(2), order_type="MKT"
            )
            perm_id = gw.broker.orders()[0].perm_id
            gw.broker.fill(perm_id, Decimal(2), Decimal(50))
            frames = await client.until(Out.POSITION_DATA)
            client.close()
            return frames

    position = run(scenario)[-1]
    assert (position[2], position[4], position[-2], position[-1]) == (
        "DU1234567",
        "AAPL",
        "2",
        "50",
    )


class _BrokenBroker(SimBroker):
    def handle_request(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("simulated broker bug")


def test_a_broker_error_fails_that_session_only_with_a_log_code(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        async with gateway(_BrokenBroker(QUIET)) as gw:
            client = await RawClient.open(gw.port)
            await client.start(1)
            client.send("49", "1")
            assert await client.closed_by_server()
            again = await RawClient.open(gw.port)  # the server still accepts
            await again.start(2)
            again.close()

    with caplog.at_level(logging.INFO, logger="ibguard.kit.gateway"):
        run(scenario)
    codes = [getattr(r, "code", None) for r in caplog.records]
    assert GatewayLogCode.SESSION_FAILED in codes


def test_an_encode_failure_for_one_client_fails_that_session_only(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Client 2 streams positions; client 1's fill makes the broker deliver a Position to
    client 2 inside client 1's request. Encoding it fails: client 2 is closed with
    SESSION_FAILED, client 1 gets its whole fill and keeps trading."""
    from ibguard.kit.gateway.registry import encode_message as real_encode
    from ibguard.kit.sim.messages import Position

    def encode(message: Any, version: int) -> Any:
        if isinstance(message, Position):
            raise ValueError("simulated encoder bug")
        return real_encode(message, version)

    broker = SimBroker(QUIET)

    async def scenario() -> None:
        async with gateway(broker) as gw:
            trader = await RawClient.open(gw.port)
            await trader.start(1)
            watcher = await RawClient.open(gw.port)
            await watcher.start(2)
            watcher.send("61", "1")  # reqPositions: only the watcher streams positions
            await watcher.until(Out.POSITION_END)
            monkeypatch.setattr("ibguard.kit.gateway.frame_cache.encode_message", encode)
            trader.place(1, "AAPL", "BUY", 1)
            await trader.until(Out.COMMISSION_REPORT)
            assert await watcher.closed_by_server()
            trader.place(2, "AAPL", "BUY", 2)
            await trader.until(Out.COMMISSION_REPORT)
            assert [s.client_id for s in broker.sessions()] == [1]
            trader.close()

    with caplog.at_level(logging.INFO, logger="ibguard.kit.gateway"):
        run(scenario)
    failed = [
        r.client_id  # type: ignore[attr-defined]
        for r in caplog.records
        if getattr(r, "code", None) is GatewayLogCode.SESSION_FAILED
    ]
    assert failed == [2]
    assert broker.position("AAPL") == 3
