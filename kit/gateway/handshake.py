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

__all__ = ["MAX_SERVER_VERSION", "MIN_SERVER_VERSION", "negotiate_version", "server_hello"]

# The range every encoder here is proven against (ib_async 157..178, ib_insync 157..176).
MIN_SERVER_VERSION: Final = 157
MAX_SERVER_VERSION: Final = 178


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
        raise PeerProtocolError(
            f"client wants versions {hello.min_version}..{hello.max_version}, "
            f"gateway speaks {min_version}..{max_version}"
        )
    return version


def server_hello(server_version: int, connection_time: datetime) -> tuple[str, ...]:
    """The handshake reply: version and connection time as TWS prints it."""
    if connection_time.tzinfo is None:
        raise UsageError("connection_time must be timezone-aware")
    stamp = connection_time.strftime("%Y%m%d %H:%M:%S ") + (connection_time.tzname() or "UTC")
    return (str(server_version), stamp)
