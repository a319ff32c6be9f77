"""The socket reader: raw bytes from TWS -> frames -> the library's decoder.

Both client libraries frame incoming bytes in `Client._onSocketHasData` by slicing the
rest of the buffer after every message (`self._data = self._data[msgEnd:]`): a read of
64 KB holding hundreds of messages is copied hundreds of times, so the cost per message
grows with the read. Once the API session is ready, `FrameReader` frames each read with
offsets instead (one copy per read) and hands the fields to the same decoder. The
handshake and the first answers (server version, nextValidId, managedAccounts) stay the
library's own business, as does everything it does per read (its wrapper's
tcpDataArrived/Processed hooks, the byte and message counters). Around every read, framed
by either, the connector is told where it begins and ends: it hands the engine a read's
events at once (BrokerPort.start_by_read).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final

__all__ = ["FrameReader"]

_LENGTH: Final = struct.Struct(">I")


class FrameReader:
    """Takes the client's place as the receiver of its connection's bytes; `read_begins`
    and `read_ends` are called around each read's messages (the connector gathers a
    read's events between them), whoever frames them."""

    def __init__(
        self,
        client: Any,
        read_begins: Callable[[], None],
        read_ends: Callable[[], None],
    ) -> None:
        self._client = client
        self._library_handler = client._onSocketHasData
        self._read_begins = read_begins
        self._read_ends = read_ends
        client.conn.hasData -= self._library_handler
        client.conn.hasData += self.on_data

    def on_data(self, data: bytes) -> None:
        self._read_begins()
        try:
            self._frame(data)
        finally:  # what was read is delivered, even when a message broke the read
            self._read_ends()

    def _frame(self, data: bytes) -> None:
        client = self._client
        if not client._apiReady:  # handshake: the library snoops ids and accounts itself
            self._library_handler(data)
            return
        if client._tcpDataArrived:
            client._tcpDataArrived()
        client._numBytesRecv += len(data)
        buffer = client._data + data if client._data else data
        interpret = client.decoder.interpret
        unpack = _LENGTH.unpack_from
        at, end, messages = 0, len(buffer), 0
        while end - at > 4:
            (size,) = unpack(buffer, at)
            stop = at + 4 + size
            if stop > end:
                break  # the rest of this message comes with the next read
            fields = buffer[at + 4 : stop].decode(errors="backslashreplace").split("\0")
            fields.pop()  # the empty string after the last separator
            at = stop
            messages += 1
            interpret(fields)
        client._data = buffer[at:] if at < end else b""
        client._numMsgRecv += messages
        if client._tcpDataProcessed:
            client._tcpDataProcessed()
