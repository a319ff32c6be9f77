"""A hand-driven TWS API client for tests over raw loopback sockets: bytes out, frames in,
and a gateway fixture around a quiet SimBroker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

from ibguard.kit.gateway.framing import Frame, FrameReader, encode, encode_client_hello
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim import BrokerConfig, SimBroker

QUIET = BrokerConfig(farm_status_messages=False)


class RawClient:
    """A hand-driven TWS API client: bytes out, frames in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.frames = FrameReader(expect_hello=False)
        self.version = 0

    @classmethod
    async def open(cls, port: int, low: int = 157, high: int = 178) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        writer.write(encode_client_hello(low, high))
        hello = await client.next()
        client.version = int(hello[0])
        return client

    async def start(self, client_id: int) -> list[tuple[str, ...]]:
        self.send("71", "2", str(client_id), "")
        return await self.until(Out.NEXT_VALID_ID)

    def send(self, *fields: str) -> None:
        self.writer.write(encode(fields))

    def place(self, order_id: int, symbol: str, action: str, qty: float, kind: str = "MKT") -> None:
        """placeOrder bytes as ib_async writes them at this server version."""
        from ib_async import Order, Stock

        order = Order(
            action=action, totalQuantity=qty, orderType=kind, lmtPrice=1.0 if kind == "LMT" else 0
        )
        self.place_order(order_id, Stock(symbol, "SMART", "USD"), order)

    def place_order(self, order_id: int, contract: Any, order: Any) -> None:
        """Any ib_async contract and order, written by ib_async's own Client."""
        self.writer.write(self.client_bytes(lambda c: c.placeOrder(order_id, contract, order)))

    def client_bytes(self, call: Any) -> bytes:
        """What ib_async's Client writes for ``call(client)`` at this server version."""
        from ib_async.client import Client

        wire = SimpleNamespace(data=b"")
        c = Client(SimpleNamespace())
        c.conn = SimpleNamespace(sendMsg=lambda data: setattr(wire, "data", wire.data + data))
        c.connState = Client.CONNECTED
        c._serverVersion = self.version
        c.MaxRequests = 0
        call(c)
        data: bytes = wire.data
        return data

    async def next(self, timeout: float = 2.0) -> tuple[str, ...]:
        while True:
            message = self.frames.next_message()
            if isinstance(message, Frame):
                return message.fields
            data = await asyncio.wait_for(self.reader.read(1 << 16), timeout)
            if not data:
                raise ConnectionResetError("server closed the socket")
            self.frames.feed(data)

    async def until(self, msg_id: int) -> list[tuple[str, ...]]:
        """Frames up to and including the first with ``msg_id``."""
        got = [await self.next()]
        while got[-1][0] != str(int(msg_id)):
            got.append(await self.next())
        return got

    async def closed_by_server(self, timeout: float = 2.0) -> bool:
        try:
            while True:
                await self.next(timeout)
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.writer.close()


@asynccontextmanager
async def gateway(broker: SimBroker | None = None, **kw: Any) -> AsyncIterator[Gateway]:
    async with Gateway(broker or SimBroker(QUIET), **kw) as gw:
        yield gw


def ids(frames: list[tuple[str, ...]]) -> list[int]:
    return [int(f[0]) for f in frames]
