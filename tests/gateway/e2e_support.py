"""Shared by the end-to-end tests: a gateway on 127.0.0.1:0 around a SimBroker, and an
unmodified ib_async or ib_insync `IB()` connected to it in the same event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

import pytest
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim import SimBroker

from tests.support.scenarios import until

CLIENTS = ["ib_async", "ib_insync"]
CLIENT_ID = 7
T = TypeVar("T")


def client_module(name: str) -> ModuleType:
    return pytest.importorskip(name)


@dataclass
class Rig:
    """One gateway, its broker, the client library and a connected IB()."""

    gateway: Gateway
    broker: SimBroker
    lib: ModuleType
    ib: Any
    errors: list[tuple[int, int]] = field(default_factory=list)  # (reqId, code)

    async def settle(self, seconds: float = 0.05) -> None:
        """Let frames cross loopback both ways."""
        await asyncio.sleep(seconds)

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        await until(predicate, timeout)

    def stock(self, symbol: str = "AAPL") -> Any:
        return self.lib.Stock(symbol, "SMART", "USD")


async def connect(lib: ModuleType, port: int, client_id: int = CLIENT_ID, **kw: Any) -> Any:
    ib = lib.IB()
    await ib.connectAsync("127.0.0.1", port, clientId=client_id, timeout=kw.pop("timeout", 3))
    return ib


@asynccontextmanager
async def rig(
    client: str, broker: SimBroker | None = None, *, client_id: int = CLIENT_ID, **gateway_kw: Any
) -> AsyncIterator[Rig]:
    lib = client_module(client)
    broker = broker or SimBroker()
    async with Gateway(broker, **gateway_kw) as gateway:
        ib = await connect(lib, gateway.port, client_id)
        r = Rig(gateway=gateway, broker=broker, lib=lib, ib=ib)
        ib.errorEvent += lambda req_id, code, *rest: r.errors.append((req_id, code))
        try:
            yield r
        finally:
            ib.disconnect()
            await asyncio.sleep(0)
