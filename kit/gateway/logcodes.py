"""Log codes of the fake TWS gateway's server side (sessions, wire faults, the command).

Every log record the server writes carries one of these as ``extra={"code": ...}``; tests
assert on the code, never on the wording. Engine decisions have their own catalog
(`ibguard.engine.logcodes`); these name what happened at the socket.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["GatewayLogCode"]


class GatewayLogCode(str, Enum):
    GATEWAY_LISTENING = "GATEWAY_LISTENING"
    GATEWAY_STOPPED = "GATEWAY_STOPPED"
    SESSION_OPENED = "GATEWAY_SESSION_OPENED"  # handshake done, version negotiated
    SESSION_STARTED = "GATEWAY_SESSION_STARTED"  # startApi accepted by the broker
    SESSION_CLOSED = "GATEWAY_SESSION_CLOSED"
    CLIENT_ID_IN_USE = "GATEWAY_CLIENT_ID_IN_USE"  # 326 sent, socket closed
    PEER_PROTOCOL_ERROR = "GATEWAY_PEER_PROTOCOL_ERROR"  # malformed bytes: session closed
    UNKNOWN_REQUEST = "GATEWAY_UNKNOWN_REQUEST"  # message id the gateway does not serve
    REQUEST_REFUSED = "GATEWAY_REQUEST_REFUSED"  # unreadable field: TWS's error, not acted on
    CONNECTION_REFUSED = "GATEWAY_CONNECTION_REFUSED"  # over the connection cap (coalesced)
    SESSION_FAILED = "GATEWAY_SESSION_FAILED"  # a bug or broker error: that session closed
    WIRE_FAULT = "GATEWAY_WIRE_FAULT"  # a scripted wire fault fired
    SCRIPT_LOADED = "GATEWAY_SCRIPT_LOADED"
    MARKET_FAILED = "GATEWAY_MARKET_FAILED"  # moving the market failed: quotes stop streaming
