"""Encode once, send to many: the frames of the last few broker messages, per server version.

The broker posts one message object to many sessions in a row (a position update to every
reqPositions subscriber, a broadcast error to everyone), and each session's connection would
encode it again. `FrameCache` keeps the frame of the last few (message, server version) pairs,
keyed by the message object itself (messages are frozen, and the cache holds a reference, so an
identity key cannot be reused while cached). Bounded: a handful of entries, oldest dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from ibguard.kit.gateway.framing import encode
from ibguard.kit.gateway.registry import encode_message
from ibguard.kit.sim.messages import TwsMessage

__all__ = ["FrameCache"]

_SIZE: Final = 16


class FrameCache:
    def __init__(self, size: int = _SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, int], tuple[TwsMessage, int, bytes]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def frame(self, message: TwsMessage, server_version: int) -> tuple[int, bytes]:
        """The message id and the encoded frame of ``message`` at ``server_version``."""
        key = (id(message), server_version)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is message:
            self.hits += 1
            return entry[1], entry[2]
        self.misses += 1
        fields = encode_message(message, server_version)
        msg_id, data = int(fields[0]), encode(fields)
        self._entries[key] = (message, msg_id, data)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return msg_id, data
