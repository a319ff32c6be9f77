"""Errors of the gateway codec, named for whose fault they are.

`PeerProtocolError`: the connected client sent bytes the TWS protocol does not allow (bad
handshake, oversized or malformed frame, a request whose layout does not parse). The session
that raised it is finished: the server closes it and never reuses the codec.
`RequestRefused`: one request is answered with TWS's error code and ignored; the session goes
on (unless the refusal is fatal, as for a startApi TWS cannot accept). Misuse of an encoder
(a NUL inside a field, a NaN price) is the caller's fault and raises `ibguard.errors.
UsageError` instead.
"""

from __future__ import annotations

from ibguard.errors import IbguardError

__all__ = ["PeerProtocolError", "RequestRefused", "UnreadableField"]


class PeerProtocolError(IbguardError, ValueError):
    """The peer broke the TWS socket protocol; the session is over."""


class UnreadableField(PeerProtocolError):
    """A well-framed request carries a field TWS cannot read (a non-finite or out-of-range
    number, an id outside Java's int). `registry.decode_request` turns it into
    `RequestRefused` for the request it belongs to."""

    def __init__(self, name: str, raw: str, *, reason: str = "") -> None:
        super().__init__(f"field {name!r} is unreadable: {raw[:40]!r}{reason}")
        self.field_name = name
        self.raw = raw


class RequestRefused(IbguardError, ValueError):
    """TWS answers this request with an error and does not act on it (nothing is stored).
    ``fatal``: the session cannot go on (a startApi refused) and is closed after the answer."""

    def __init__(self, req_id: int, code: int, message: str, *, fatal: bool = False) -> None:
        super().__init__(f"{code} {message}")
        self.req_id = req_id
        self.code = code
        self.message = message
        self.fatal = fatal
