"""Shared by the connector tests (run/until and the clock come from tests/support and
tests/fakes): a fixed clock, the two client libraries, a decoder feed
(the library's real Decoder driving a WrapperTap, no sockets) and a gateway rig."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import ModuleType
from typing import Any, TypeVar

import pytest
from ibguard.engine.connector.ib import IBConnector
from ibguard.engine.connector.reconnect import Backoff
from ibguard.engine.connector.tap import WrapperTap
from ibguard.engine.events import BrokerEvent
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim import SimBroker

from tests.fakes.clock import ManualClock
from tests.support.scenarios import until

CLIENTS = ["ib_async", "ib_insync"]
SERVER_VERSION = {"ib_async": 178, "ib_insync": 176}
CLIENT_ID = 7
LOCAL_NOW = datetime(2024, 1, 2, 14, 31, 5, tzinfo=timezone.utc)
T = TypeVar("T")


def FixedClock(now: datetime = LOCAL_NOW) -> ManualClock:
    """A clock that stays at `now` (nothing in these tests advances it)."""
    return ManualClock(now)


def library(name: str) -> ModuleType:
    return pytest.importorskip(name)


@dataclass
class Feed:
    """A library IB() whose decoder calls a WrapperTap; `wire(fields)` decodes one message."""

    lib: ModuleType
    ib: Any
    tap: WrapperTap
    events: list[BrokerEvent]

    def wire(self, fields: Iterable[str]) -> None:
        self.ib.client.decoder.interpret(list(fields))

    @property
    def server_version(self) -> int:
        return int(self.ib.client.decoder.serverVersion)

    def take(self) -> list[BrokerEvent]:
        taken, self.events[:] = list(self.events), []
        return taken


def feed(name: str) -> Feed:
    lib = library(name)
    ib = lib.IB()
    events: list[BrokerEvent] = []
    tap = WrapperTap(ib.wrapper, events.append, FixedClock())
    tap.install(ib.client.decoder)
    ib.client.decoder.serverVersion = SERVER_VERSION[name]
    return Feed(lib=lib, ib=ib, tap=tap, events=events)


@dataclass
class Sleeps:
    """An injected sleep: records the delays, waits only a tick."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0.001)


@dataclass
class Rig:
    gateway: Gateway
    broker: SimBroker
    connector: IBConnector
    events: list[BrokerEvent]
    sleeps: Sleeps

    def of(self, kind: type[T]) -> list[T]:
        return [e for e in self.events if isinstance(e, kind)]


@asynccontextmanager
async def rig(
    client: str,
    broker: SimBroker | None = None,
    *,
    client_id: int = CLIENT_ID,
    backoff: Backoff | None = None,
    start: bool = True,
) -> AsyncIterator[Rig]:
    lib = library(client)
    broker = broker or SimBroker()
    async with Gateway(broker) as gateway:
        sleeps = Sleeps()
        connector = IBConnector(
            "127.0.0.1",
            gateway.port,
            client_id,
            clock=FixedClock(),
            library=lib,
            connect_timeout=3,
            backoff=backoff or Backoff(initial=0.01, maximum=0.05, jitter=0),
            sleep=sleeps,
        )
        events: list[BrokerEvent] = []
        r = Rig(gateway, broker, connector, events, sleeps)
        if start:
            connector.start(events.append)
            await until(lambda: connector.connected)
        try:
            yield r
        finally:
            connector.stop()
            await asyncio.sleep(0)
