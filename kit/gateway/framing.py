"""Sans-IO framing of the TWS socket protocol: bytes in, messages out, and fields to bytes.

Wire rules (see TWS-PROTOCOL.md):
- every message is a 4-byte big-endian length, then its fields, each terminated by NUL;
- a client opens with the raw bytes ``API\\0`` followed by one length-prefixed payload that is
  the version range ``v<min>..<max>`` (optionally `` <options>``) with no trailing NUL.

`FrameReader` owns the receive buffer of one connection. `feed` appends bytes, `next_message`
returns one `ClientHello` / `Frame`, or `NEED_DATA` when the buffer holds no complete message.
A frame longer than ``max_frame_length`` or a malformed one raises `PeerProtocolError`, and
every later call raises it again: a broken session is never resumed. No sockets, no asyncio.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, final

from ibguard.errors import UsageError
from ibguard.kit.gateway.errors import PeerProtocolError

__all__ = [
    "API_PREFIX",
    "MAX_FRAME_LENGTH",
    "NEED_DATA",
    "ClientHello",
    "Frame",
    "FrameReader",
    "NeedData",
    "encode",
    "encode_client_hello",
]

API_PREFIX: Final = b"API\0"
# IB's own clients refuse frames above 16 MiB; real traffic is a few KiB at most.
MAX_FRAME_LENGTH: Final = 1 << 20
_HEADER: Final = struct.Struct(">I")


@final
class NeedData:
    """Sentinel type: the buffer holds no complete message yet."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData()


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ClientHello:
    """The client's opening: the server versions it accepts, and its connect options."""

    min_version: int
    max_version: int
    options: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.min_version <= self.max_version:
            raise UsageError(f"bad version range {self.min_version}..{self.max_version}")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One length-prefixed message, split into its text fields (message id first)."""

    fields: tuple[str, ...]


class FrameReader:
    """Receive side of one connection.

    ``expect_hello=True`` is the server's view (the peer opens with ``API\\0`` and a version
    range); ``False`` reads a server's stream, whose handshake reply is an ordinary frame.
    """

    def __init__(self, *, expect_hello: bool, max_frame_length: int = MAX_FRAME_LENGTH) -> None:
        if max_frame_length < 1:
            raise UsageError("max_frame_length must be positive")
        self._buffer = bytearray()
        self._awaiting_hello = expect_hello
        self._max = max_frame_length
        self._error: PeerProtocolError | None = None

    @property
    def trailing_data(self) -> bytes:
        """Bytes received but not yet returned as a message."""
        return bytes(self._buffer)

    def feed(self, data: bytes) -> None:
        """Append received bytes; an empty chunk is allowed and changes nothing."""
        self._raise_if_broken()
        self._buffer += data

    def next_message(self) -> ClientHello | Frame | NeedData:
        """Return the next complete message, or `NEED_DATA`."""
        self._raise_if_broken()
        try:
            if self._awaiting_hello:
                return self._next_hello()
            payload = self._next_payload()
            if payload is None:
                return NEED_DATA
            return Frame(fields=_split_fields(payload))
        except PeerProtocolError as exc:
            self._error = exc
            raise

    def _raise_if_broken(self) -> None:
        if self._error is not None:
            raise PeerProtocolError(f"session already failed: {self._error}")

    def _next_hello(self) -> ClientHello | NeedData:
        prefix = bytes(self._buffer[: len(API_PREFIX)])
        if not API_PREFIX.startswith(prefix):
            raise PeerProtocolError(f"handshake must start with {API_PREFIX!r}, got {prefix!r}")
        if len(prefix) < len(API_PREFIX):
            return NEED_DATA
        payload = self._next_payload(offset=len(API_PREFIX))
        if payload is None:
            return NEED_DATA
        self._awaiting_hello = False
        return _parse_hello(payload)

    def _next_payload(self, offset: int = 0) -> bytes | None:
        """Cut one length-prefixed payload starting at ``offset`` off the buffer."""
        header_end = offset + _HEADER.size
        if len(self._buffer) < header_end:
            return None
        (length,) = _HEADER.unpack_from(self._buffer, offset)
        if length > self._max:
            raise PeerProtocolError(f"frame of {length} bytes exceeds limit {self._max}")
        end = header_end + length
        if len(self._buffer) < end:
            return None
        payload = bytes(self._buffer[header_end:end])
        del self._buffer[:end]
        return payload


def _split_fields(payload: bytes) -> tuple[str, ...]:
    if not payload.endswith(b"\0"):
        raise PeerProtocolError("frame does not end with a NUL field terminator")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PeerProtocolError(f"frame is not UTF-8: {exc}") from exc
    # The final NUL terminates the last field, so the split leaves one empty tail to drop.
    return tuple(text.split("\0")[:-1])


def _version_digits(text: str) -> bool:
    # ASCII only ("٣".isdigit() is true), and short: int() of thousands of digits raises
    return 0 < len(text) <= 9 and text.isascii() and text.isdigit()


def _parse_hello(payload: bytes) -> ClientHello:
    text = payload.decode("ascii", errors="replace")
    versions, _, options = text.partition(" ")
    low, sep, high = versions[1:].partition("..")
    if (
        not versions.startswith("v")
        or not _version_digits(low)
        or (sep and not _version_digits(high))
    ):
        raise PeerProtocolError(f"bad version range in handshake: {text[:40]!r}")
    min_version = int(low)
    max_version = int(high) if sep else min_version
    if not 0 < min_version <= max_version:
        raise PeerProtocolError(f"empty version range in handshake: {text[:40]!r}")
    return ClientHello(min_version=min_version, max_version=max_version, options=options)


def encode(fields: Iterable[str]) -> bytes:
    """One frame: 4-byte big-endian length, then every field followed by NUL. One join and
    one encode per frame (no per-field work: this runs for every frame the gateway sends)."""
    items = fields if isinstance(fields, tuple) else tuple(fields)
    if not items:
        return _HEADER.pack(0)
    try:
        text = "\0".join(items)
    except TypeError:
        bad = next(f for f in items if not isinstance(f, str))
        raise UsageError(f"fields are text; format {bad!r} first") from None
    if text.count("\0") != len(items) - 1:
        bad = next(f for f in items if "\0" in f)
        raise UsageError(f"field {bad!r} contains NUL")
    payload = (text + "\0").encode("utf-8")
    return _HEADER.pack(len(payload)) + payload


def encode_client_hello(min_version: int, max_version: int, options: str = "") -> bytes:
    """The client's opening bytes (used by tests and by scripted clients)."""
    ClientHello(min_version=min_version, max_version=max_version, options=options)
    text = f"v{min_version}..{max_version}" + (f" {options}" if options else "")
    payload = text.encode("ascii")
    return API_PREFIX + _HEADER.pack(len(payload)) + payload
