"""The frame reader: a ready session's bytes, cut anywhere, decode to the same events as
the library's own handler gives for the whole stream; the handshake stays the library's."""

from __future__ import annotations

import random

import pytest
from ibguard.engine.connector.ib import IBConnector
from ibguard.engine.events import BrokerEvent, ConnectionLost
from ibguard.kit.gateway.framing import encode

from .support import CLIENTS, SERVER_VERSION, FixedClock, library
from .test_fill_cost import frames


def _connector(client: str, ready: bool) -> tuple[IBConnector, list[BrokerEvent]]:
    events: list[BrokerEvent] = []
    connector = IBConnector("127.0.0.1", 1, 7, clock=FixedClock(), library=library(client))
    connector._on_event = events.append  # what start() installs, without a socket
    ib_client = connector.ib.client
    ib_client._serverVersion = ib_client.decoder.serverVersion = SERVER_VERSION[client]
    ib_client._apiReady = ready
    return connector, events


def _stream(client: str, fills: int) -> bytes:
    return b"".join(encode(fields) for fields in frames(SERVER_VERSION[client], fills))


@pytest.mark.parametrize("client", CLIENTS)
def test_bytes_cut_anywhere_decode_to_the_events_of_the_whole_stream(client: str) -> None:
    stream = _stream(client, 40)
    whole, expected = _connector(client, ready=True)
    whole.ib.client.conn.hasData.emit(stream)
    cut, events = _connector(client, ready=True)
    rng = random.Random(7)
    at = 0
    while at < len(stream):
        step = rng.choice((1, 2, 3, 5, 64, 700))
        cut.ib.client.conn.hasData.emit(stream[at : at + step])
        at += step
    assert len(expected) == 1 + 3 * 40
    assert events == expected
    assert cut.ib.client._data == b""
    assert cut.ib.client._numMsgRecv == whole.ib.client._numMsgRecv == len(expected)


@pytest.mark.parametrize("client", CLIENTS)
def test_before_the_session_is_ready_the_library_reads_and_hands_over_what_is_left(
    client: str,
) -> None:
    stream = _stream(client, 5)
    connector, events = _connector(client, ready=False)
    ib_client = connector.ib.client
    half = len(stream) // 2
    ib_client.conn.hasData.emit(stream[:half])  # the library's own handler reads this
    taken = len(events)
    assert ib_client._data  # it keeps the cut message in its own buffer
    ib_client._apiReady = True  # nextValidId and managedAccounts came: the reader takes over
    ib_client.conn.hasData.emit(stream[half:])
    assert len(events) == 1 + 3 * 5
    assert taken < len(events)
    assert ib_client._data == b""


@pytest.mark.parametrize("client", CLIENTS)
def test_a_client_without_read_hooks_is_read_the_same(client: str) -> None:
    connector, events = _connector(client, ready=True)
    connector.ib.client._tcpDataArrived = connector.ib.client._tcpDataProcessed = None
    connector.ib.client.conn.hasData.emit(_stream(client, 3))
    assert len(events) == 1 + 3 * 3


def _reading_connector(client: str) -> tuple[IBConnector, list[tuple[BrokerEvent, ...]]]:
    reads: list[tuple[BrokerEvent, ...]] = []
    connector, _ = _connector(client, ready=True)
    connector._on_event = None
    connector._on_read = lambda events: reads.append(tuple(events))  # start_by_read's
    return connector, reads


@pytest.mark.parametrize("client", CLIENTS)
def test_started_by_read_each_reads_events_come_in_one_call_once_it_is_read(
    client: str,
) -> None:
    stream = _stream(client, 20)
    by_event, expected = _connector(client, ready=True)
    by_event.ib.client.conn.hasData.emit(stream)
    whole, reads = _reading_connector(client)
    whole.ib.client.conn.hasData.emit(stream)
    assert reads == [tuple(expected)]
    cut, reads = _reading_connector(client)
    at, rng = 0, random.Random(3)
    while at < len(stream):
        step = rng.choice((1, 7, 64, 300))
        cut.ib.client.conn.hasData.emit(stream[at : at + step])
        at += step
    assert [event for read in reads for event in read] == expected
    assert all(reads)  # a read that completed no message hands over nothing


@pytest.mark.parametrize("client", CLIENTS)
def test_started_by_read_an_event_from_no_read_comes_alone(client: str) -> None:
    connector, reads = _reading_connector(client)
    lost = ConnectionLost(reason="socket closed")
    connector._deliver(lost)
    assert reads == [(lost,)]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_read_that_breaks_midway_still_hands_over_what_it_read(
    client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector, reads = _reading_connector(client)
    decoder = connector.ib.client.decoder
    interpret, seen = decoder.interpret, []

    def breaks_at_the_fifth(fields: list[str]) -> None:
        seen.append(fields)
        if len(seen) == 5:
            raise RuntimeError("a decoder bug")
        interpret(fields)

    monkeypatch.setattr(decoder, "interpret", breaks_at_the_fifth)
    with pytest.raises(RuntimeError, match="a decoder bug"):  # (the library's event logs it)
        connector._reader.on_data(_stream(client, 5))
    assert [len(read) for read in reads] == [4]
    assert connector._read is None  # the next read starts afresh
