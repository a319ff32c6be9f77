"""Errors of the gateway codec, named for whose fault they are.

`PeerProtocolError`: the connected client sent bytes the TWS protocol does not allow (bad
handshake, oversized or malformed frame, a request whose fields do not parse). The session that
raised it is finished: the server closes it and never reuses the codec. Misuse of an encoder
(a NUL inside a field, a NaN price) is the caller's fault and raises `ibguard.errors.
UsageError` instead.
"""

from __future__ import annotations

from ibguard.errors import IbguardError

__all__ = ["PeerProtocolError"]


class PeerProtocolError(IbguardError, ValueError):
    """The peer broke the TWS socket protocol; the session is over."""
