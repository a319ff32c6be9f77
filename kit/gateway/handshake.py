"""Version negotiation and the server's handshake reply.

The server answers the client's version range with ``min(client max, server max)``; a range
that does not overlap what the gateway can encode is the peer's fault. The reply is an ordinary
frame of two fields, the version and the connection time, which the clients only display.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from ibguard.errors import UsageError
from ibguard.kit.gateway.errors import PeerProtocolError
from ibguard.kit.gateway.framing import ClientHello

__all__ = [
    "MAX_SERVER_VERSION",
    "MIN_SERVER_VERSION",
    "UnservableVersions",
    "negotiate_version",
    "server_hello",
]

# The range every encoder here is proven against (ib_async 157..178, ib_insync 157..176).
MIN_SERVER_VERSION: Final = 157
MAX_SERVER_VERSION: Final = 178


class UnservableVersions(PeerProtocolError):
    """The client's version range and the gateway's do not overlap. TWS still completes the
    handshake (with the version nearest the client's range) and then says why, with the error
    a real TWS sends: 503 when the client needs a newer TWS, 357 when the client is too old."""

    def __init__(self, hello: ClientHello, low: int, high: int) -> None:
        super().__init__(
            f"client wants versions {hello.min_version}..{hello.max_version}, "
            f"gateway speaks {low}..{high}"
        )
        if hello.min_version > high:
            self.reply_version = high
            self.code = 503
            self.text = "The TWS is out of date and must be upgraded."
        else:
            self.reply_version = low
            self.code = 357
            self.text = "Your client version is out of date."


def negotiate_version(
    hello: ClientHello,
    *,
    min_version: int = MIN_SERVER_VERSION,
    max_version: int = MAX_SERVER_VERSION,
) -> int:
    """The server version to announce for this client."""
    if not MIN_SERVER_VERSION <= min_version <= max_version <= MAX_SERVER_VERSION:
        raise UsageError(
            f"server versions {min_version}..{max_version} outside what the codec encodes "
            f"({MIN_SERVER_VERSION}..{MAX_SERVER_VERSION})"
        )
    version = min(hello.max_version, max_version)
    if version < max(hello.min_version, min_version):
        raise UnservableVersions(hello, min_version, max_version)
    return version


def server_hello(server_version: int, connection_time: datetime) -> tuple[str, ...]:
    """The handshake reply: version and connection time as TWS prints it."""
    if connection_time.tzinfo is None:
        raise UsageError("connection_time must be timezone-aware")
    stamp = connection_time.strftime("%Y%m%d %H:%M:%S ") + (connection_time.tzname() or "UTC")
    return (str(server_version), stamp)
