"""Hostile and careless peers at the gateway (issue 11, findings 2 and 10): a bad number in one
order is refused with TWS's error and never stored, so it cannot poison other clients; bad
handshakes, client ids and message ids are refused cleanly; idle sockets time out and a
connection cap keeps the gateway serving, with bounded logging; reqExecutions shows a client
only what TWS would."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest
from ibguard.kit.gateway.errors import PeerProtocolError
from ibguard.kit.gateway.framing import Frame, FrameReader
from ibguard.kit.gateway.logcodes import GatewayLogCode
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.registry import decode_request
from ibguard.kit.sim import BrokerConfig, SimBroker

from tests.support.scenarios import run

from .raw_client import QUIET, RawClient, gateway

ib_async = pytest.importorskip("ib_async")


def _codes(caplog: pytest.LogCaptureFixture) -> list[object]:
    return [getattr(r, "code", None) for r in caplog.records]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lmtPrice", float("nan")),
        ("lmtPrice", float("inf")),
        ("totalQuantity", float("nan")),
        ("totalQuantity", float("inf")),
        ("auxPrice", float("-inf")),
    ],
)
def test_a_non_finite_number_in_an_order_is_refused_with_320_and_never_stored(
    field: str, value: float, caplog: pytest.LogCaptureFixture
) -> None:
    broker = SimBroker(QUIET)

    async def scenario() -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], int]:
        async with gateway(broker) as gw:
            bad = await RawClient.open(gw.port)
            await bad.start(1)
            order = ib_async.LimitOrder("BUY", 1, 1.0)
            setattr(order, field, value)
            bad.place_order(5, ib_async.Stock("AAPL", "SMART", "USD"), order)
            bad.send("49", "1")  # reqCurrentTime: the session is still served
            refused = await bad.until(Out.CURRENT_TIME)
            other = await RawClient.open(gw.port)
            await other.start(2)
            other.send("16", "1")  # reqAllOpenOrders: not poisoned
            answer = await other.until(Out.OPEN_ORDER_END)
            bad.close()
            other.close()
            return refused, answer, len(broker.orders())

    with caplog.at_level(logging.INFO, logger="ibguard.kit.gateway"):
        refused, answer, stored = run(scenario)
    assert [(f[0], f[2], f[3]) for f in refused if f[0] == "4"] == [("4", "5", "320")]
    assert answer == [("53", "1")]
    assert stored == 0
    assert GatewayLogCode.SESSION_FAILED not in _codes(caplog)


def test_a_5000_digit_handshake_version_is_one_clean_rejection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> bytes:
        async with gateway() as gw:
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            payload = b"v" + b"9" * 5000 + b"..178"
            writer.write(b"API\0" + len(payload).to_bytes(4, "big") + payload)
            data = await reader.read()  # until the server closes
            writer.close()
            return data

    with caplog.at_level(logging.INFO, logger="ibguard.kit.gateway"):
        assert run(scenario) == b""
    codes = _codes(caplog)
    assert codes.count(GatewayLogCode.PEER_PROTOCOL_ERROR) == 1
    assert GatewayLogCode.SESSION_FAILED not in codes
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("raw", ["٣", "+3", " 3", "-3", "3" * 40])
def test_a_message_id_that_is_not_plain_ascii_digits_is_a_peer_error(raw: str) -> None:
    with pytest.raises(PeerProtocolError):
        decode_request((raw, "1"), 178)


@pytest.mark.parametrize("client_id", ["-1", str(2**63), str(2**31)])
def test_a_client_id_outside_tws_range_is_refused_and_closed(
    client_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    broker = SimBroker(QUIET)

    async def scenario() -> list[tuple[str, ...]]:
        async with gateway(broker) as gw:
            client = await RawClient.open(gw.port)
            client.send("71", "2", client_id, "")
            frames: list[tuple[str, ...]] = []
            try:
                while True:
                    frames.append(await client.next())
            except ConnectionResetError:
                pass
            client.close()
            return frames

    with caplog.at_level(logging.INFO, logger="ibguard.kit.gateway"):
        frames = run(scenario)
    assert [f[0] for f in frames] == ["4"]
    assert frames[0][3] in {"320", "321"}
    assert broker.sessions() == ()
    assert GatewayLogCode.SESSION_FAILED not in _codes(caplog)


def test_an_idle_socket_is_closed_after_the_handshake_timeout() -> None:
    async def scenario() -> bytes:
        async with gateway(handshake_timeout=0.05) as gw:
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            data = await reader.read()  # returns b"" when the server closes
            writer.close()
            return data

    assert run(scenario) == b""


def test_a_socket_that_said_hello_but_never_started_the_api_times_out_too() -> None:
    async def scenario() -> None:
        async with gateway(handshake_timeout=0.05) as gw:
            client = await RawClient.open(gw.port)
            assert await client.closed_by_server()

    run(scenario)


def test_the_connection_cap_refuses_extra_sockets_and_keeps_serving_with_bounded_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> list[tuple[str, ...]]:
        async with gateway(max_connections=4, handshake_timeout=0.2) as gw:
            idle = [await asyncio.open_connection("127.0.0.1", gw.port) for _ in range(40)]
            # the sockets over the cap are closed at once, the rest when their handshake
            # times out; after that a real client is served
            for reader, writer in idle:
                assert await reader.read() == b""
                writer.close()
            client = await RawClient.open(gw.port)
            frames = await client.start(7)
            client.close()
            return frames

    with caplog.at_level(logging.INFO, logger="ibguard.kit.gateway"):
        frames = run(scenario)
    assert frames[-1][0] == "9"
    refusals = [r for r in caplog.records if r.getMessage().startswith("refused")]
    assert 1 <= len(refusals) <= 3  # 36 refusals, coalesced
    assert len(caplog.records) < 60


def test_executions_with_an_empty_filter_are_the_clients_own_unless_it_is_the_master() -> None:
    broker = SimBroker(BrokerConfig(farm_status_messages=False, master_client_id=9))

    async def scenario() -> dict[int, list[str]]:
        async with gateway(broker) as gw:
            seen: dict[int, list[str]] = {}
            clients = {cid: await RawClient.open(gw.port) for cid in (1, 2, 9)}
            for cid, client in clients.items():
                await client.start(cid)
            clients[1].place(1, "AAPL", "BUY", 1)
            await clients[1].until(Out.COMMISSION_REPORT)
            clients[2].place(1, "AAPL", "SELL", 2)
            await clients[2].until(Out.COMMISSION_REPORT)
            for cid, client in clients.items():
                client.send("7", "3", "77", "0", "", "", "", "", "", "")
                frames = await client.until(Out.EXECUTION_DATA_END)
                seen[cid] = [f[14] for f in frames if f[:2] == ("11", "77")]  # execIds
                client.close()
            return seen

    seen = run(scenario)
    assert {cid: len(execs) for cid, execs in seen.items()} == {1: 1, 2: 1, 9: 2}
    assert broker.position("AAPL") == Decimal(-1)


@pytest.mark.parametrize(
    ("low", "high", "reply", "code"),
    [(179, 200, "178", "503"), (100, 150, "157", "357")],
    ids=["client-needs-newer-tws", "client-too-old"],
)
def test_a_version_range_the_gateway_cannot_serve_gets_tws_error_then_close(
    low: int, high: int, reply: str, code: str
) -> None:
    async def scenario() -> list[tuple[str, ...]]:
        async with gateway() as gw:
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            payload = f"v{low}..{high}".encode()
            writer.write(b"API\0" + len(payload).to_bytes(4, "big") + payload)
            data = await reader.read()  # until the server closes
            writer.close()
            frames = FrameReader(expect_hello=False)
            frames.feed(data)
            out = []
            while isinstance(message := frames.next_message(), Frame):
                out.append(message.fields)
            return out

    hello, error = run(scenario)
    assert hello[0] == reply
    assert (error[0], error[2], error[3]) == ("4", "-1", code)
