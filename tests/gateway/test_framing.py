"""FrameReader / encode: handshake, byte-at-a-time input, trailing bytes, frame limits, and
the bytes the pinned clients put on and take off the wire."""

from __future__ import annotations

import struct
from datetime import datetime, timezone

import pytest
from ibguard.engine.errors import UsageError
from ibguard.kit.gateway.errors import PeerProtocolError
from ibguard.kit.gateway.framing import (
    NEED_DATA,
    ClientHello,
    Frame,
    FrameReader,
    NeedData,
    encode,
    encode_client_hello,
)
from ibguard.kit.gateway.handshake import negotiate_version, server_hello

from .client_decoders import CLIENT_VERSION_PAIRS, decode_strict, pair_id
from .samples import SAMPLES

HELLO = b"API\0" + struct.pack(">I", 9) + b"v157..178"
START_API = encode(["71", "2", "0", ""])


def drain(reader: FrameReader) -> list[ClientHello | Frame]:
    out: list[ClientHello | Frame] = []
    while not isinstance(message := reader.next_message(), NeedData):
        out.append(message)
    return out


def test_encode_writes_big_endian_length_and_nul_terminated_fields() -> None:
    assert encode(["9", "1", "1001"]) == b"\0\0\0\x099\x001\x001001\0"
    assert encode([]) == b"\0\0\0\0"
    assert encode(["", "é"]) == b"\0\0\0\x04\0\xc3\xa9\0"


@pytest.mark.parametrize("bad", [["a\0b"], [1]])
def test_encode_refuses_nul_or_non_text_fields(bad: list[object]) -> None:
    with pytest.raises(UsageError):
        encode(bad)  # type: ignore[arg-type]


def test_server_reads_hello_then_frames_whole() -> None:
    reader = FrameReader(expect_hello=True)
    reader.feed(HELLO + START_API)
    assert drain(reader) == [
        ClientHello(min_version=157, max_version=178),
        Frame(fields=("71", "2", "0", "")),
    ]
    assert reader.trailing_data == b""


def test_server_reads_the_same_messages_one_byte_at_a_time() -> None:
    data = HELLO + START_API + encode(["49", "1"])
    reader = FrameReader(expect_hello=True)
    seen: list[ClientHello | Frame] = []
    for i in range(len(data)):
        reader.feed(data[i : i + 1])
        seen += drain(reader)
    assert seen == [
        ClientHello(min_version=157, max_version=178),
        Frame(fields=("71", "2", "0", "")),
        Frame(fields=("49", "1")),
    ]


def test_partial_trailing_frame_waits_and_is_kept() -> None:
    reader = FrameReader(expect_hello=False)
    tail = encode(["62", "1"])[:5]
    reader.feed(encode(["53", "1"]) + tail)
    assert drain(reader) == [Frame(fields=("53", "1"))]
    assert reader.next_message() is NEED_DATA
    assert reader.trailing_data == tail


def test_hello_with_connect_options_and_single_version() -> None:
    reader = FrameReader(expect_hello=True)
    reader.feed(encode_client_hello(157, 176, "+PACEAPI"))
    assert reader.next_message() == ClientHello(
        min_version=157, max_version=176, options="+PACEAPI"
    )
    reader = FrameReader(expect_hello=True)
    reader.feed(b"API\0" + struct.pack(">I", 4) + b"v170")
    assert reader.next_message() == ClientHello(min_version=170, max_version=170)


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\n",
        b"APX\0",
        b"API\0" + struct.pack(">I", 8) + b"157..178",
        b"API\0" + struct.pack(">I", 9) + b"v178..157",
        b"API\0" + struct.pack(">I", 5) + b"vabcd",
    ],
)
def test_bad_handshake_is_a_peer_error(data: bytes) -> None:
    reader = FrameReader(expect_hello=True)
    reader.feed(data)
    with pytest.raises(PeerProtocolError):
        reader.next_message()


def test_oversized_frame_is_a_peer_error_before_its_body_arrives() -> None:
    reader = FrameReader(expect_hello=False, max_frame_length=16)
    reader.feed(encode(["1" * 15]))  # 16 bytes with its NUL: allowed
    assert reader.next_message() == Frame(fields=("1" * 15,))
    reader.feed(struct.pack(">I", 17))
    with pytest.raises(PeerProtocolError):
        reader.next_message()


@pytest.mark.parametrize(
    "payload", [b"9\x001", b"\xff\xfe\0", b""], ids=["no-final-nul", "not-utf8", "empty"]
)
def test_malformed_frame_is_a_peer_error(payload: bytes) -> None:
    reader = FrameReader(expect_hello=False)
    reader.feed(struct.pack(">I", len(payload)) + payload)
    with pytest.raises(PeerProtocolError):
        reader.next_message()


def test_a_failed_reader_stays_failed() -> None:
    reader = FrameReader(expect_hello=True)
    reader.feed(b"XXXX")
    with pytest.raises(PeerProtocolError):
        reader.next_message()
    with pytest.raises(PeerProtocolError):
        reader.feed(HELLO)
    with pytest.raises(PeerProtocolError):
        reader.next_message()


@pytest.mark.parametrize(
    ("client_range", "expected"), [((157, 178), 178), ((157, 176), 176), ((100, 160), 160)]
)
def test_negotiation_answers_the_highest_common_version(
    client_range: tuple[int, int], expected: int
) -> None:
    hello = ClientHello(min_version=client_range[0], max_version=client_range[1])
    assert negotiate_version(hello) == expected


def test_negotiation_without_overlap_is_a_peer_error() -> None:
    with pytest.raises(PeerProtocolError):
        negotiate_version(ClientHello(min_version=100, max_version=150))
    with pytest.raises(PeerProtocolError):
        negotiate_version(ClientHello(min_version=170, max_version=178), max_version=169)


def test_server_hello_is_two_fields_the_clients_treat_as_the_handshake() -> None:
    fields = server_hello(176, datetime(2025, 1, 2, 9, 30, tzinfo=timezone.utc))
    assert fields == ("176", "20250102 09:30:00 UTC")


@pytest.mark.parametrize("pair", CLIENT_VERSION_PAIRS[::7], ids=pair_id)
def test_every_sample_survives_the_byte_stream_one_byte_at_a_time(pair: tuple[str, int]) -> None:
    client, version = pair
    stream = b"".join(encode(sample.build(version)) for sample in SAMPLES)
    reader = FrameReader(expect_hello=False)
    frames: list[ClientHello | Frame] = []
    for i in range(len(stream)):
        reader.feed(stream[i : i + 1])
        frames += drain(reader)
    assert len(frames) == len(SAMPLES)
    for sample, frame in zip(SAMPLES, frames, strict=True):
        assert isinstance(frame, Frame)
        sample.check(decode_strict(client, version, frame.fields), version)
