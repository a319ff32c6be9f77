"""Drivers: how a case's SimBroker is put in front of the subject.

Owns the `Driver` ABC, the in-process driver and the wire driver. A driver turns one
SimBroker into the `Endpoint` a subject starts against: in-process, a factory of
`SimConnector` ports; over the wire, host/port/clientId of the fake TWS gateway fronting the
same SimBroker. Cases never know which driver runs them: they script the broker and observe
it broker-side, so adding a driver adds no case code.

A driver is *synchronous* when a broker call has reached the subject by the time it
returns (in-process delivery is a function call). The wire driver is not: bytes cross a
socket. Its `settle()` runs the gateway and the subject's client (one event loop, this
thread, see wire_loop.py) until both directions are drained and the engine has reacted to
everything; the stage calls it around every broker and subject access (stage.py), so a
case's steps end at the same points under both drivers.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from abc import ABC, abstractmethod
from typing import Final

from ibguard.engine.ports import BrokerPort
from ibguard.errors import UsageError
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.matrix.subject import Endpoint, InProcessEndpoint, WireEndpoint
from ibguard.kit.matrix.wire_loop import WireLoop
from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.inprocess import SimConnector

__all__ = [
    "DEFAULT_DRIVER",
    "DRIVERS",
    "Driver",
    "InProcessDriver",
    "UnknownDriver",
    "WireDriver",
    "WireSubjectError",
    "make_driver",
]


class UnknownDriver(ValueError):
    """The driver name is not one of DRIVERS (or that driver is not available yet)."""


class WireSubjectError(RuntimeError):
    """Code on the wire driver's loop (the subject's engine or client) raised."""


class Driver(ABC):
    name: str
    synchronous: bool = True

    @abstractmethod
    def endpoint(self, broker: SimBroker, *, client_id: int, account: str) -> Endpoint:
        """An endpoint fronting `broker` for one subject."""

    def settle(self) -> None:  # noqa: B027 - optional hook
        """Return once the subject has seen everything the broker sent and the broker
        everything the subject sent (nothing to do when delivery is synchronous)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what endpoint() opened (sockets, threads). Called after every case."""


class InProcessDriver(Driver):
    name = "inprocess"

    def endpoint(self, broker: SimBroker, *, client_id: int, account: str) -> Endpoint:
        def connector() -> BrokerPort:
            return SimConnector(broker, client_id)

        return InProcessEndpoint(
            connector=connector,
            client_id=client_id,
            account=account,
            local_clock=broker.clock.local_now,
            rate_limit=broker.config.rate_limit_per_second,
        )


class WireDriver(Driver):
    """The fake TWS gateway on 127.0.0.1 and the subject's client on one virtual-time loop.

    The loop is the thread's current event loop while the case runs, so a subject using
    ib_async's or ib_insync's synchronous API (`ib.connect`, `ib.sleep`) runs on it too."""

    name = "wire"
    synchronous = False

    def __init__(self) -> None:
        self._loop: WireLoop | None = None
        self._broker: SimBroker | None = None
        self._gateway: Gateway | None = None
        self.rounds = 0  # loop rounds run by settle() so far (a figure, not a contract)

    def endpoint(self, broker: SimBroker, *, client_id: int, account: str) -> Endpoint:
        if self._loop is not None:
            raise UsageError("a wire driver fronts one broker; build a driver per stage")
        loop = WireLoop(start=broker.clock.local_now().timestamp())
        self._loop, self._broker = loop, broker
        asyncio.set_event_loop(loop)
        gateway = Gateway(broker)
        loop.run_until_complete(gateway.start())
        self._gateway = gateway
        return WireEndpoint(
            host=gateway.host,
            port=gateway.port,
            client_id=client_id,
            account=account,
            local_clock=broker.clock.local_now,
            rate_limit=broker.config.rate_limit_per_second,
        )

    def settle(self) -> None:
        loop, broker = self._loop, self._broker
        if loop is None or broker is None or loop.is_closed() or loop.is_running():
            return
        asyncio.set_event_loop(loop)  # a case may hold several stages: this one is current
        loop.follow(broker.clock.local_now().timestamp())
        self.rounds += loop.run_until_complete(loop.quiesce())
        errors = loop.take_errors()
        if errors:
            first = errors[0]
            error = first.get("exception")
            message = first.get("message", "error on the wire driver's loop")
            raise WireSubjectError(
                f"wire driver: {message}: {error!r}" if error else f"wire driver: {message}"
            ) from error

    def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None or loop.is_closed():
            return
        try:
            if self._gateway is not None:
                loop.run_until_complete(self._gateway.stop())
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
            with contextlib.suppress(RuntimeError):
                asyncio.set_event_loop(None)


DRIVERS: Final = ("inprocess", "wire")
DEFAULT_DRIVER: Final = "wire"


def _tws_client_importable() -> bool:
    for library in ("ib_async", "ib_insync"):
        try:
            importlib.import_module(library)
        except ImportError:
            continue
        return True
    return False


def make_driver(name: str) -> Driver:
    if name == "inprocess":
        return InProcessDriver()
    if name == "wire":
        if not _tws_client_importable():
            raise UnknownDriver(
                "driver 'wire' runs the engine's TWS client against the fake gateway and "
                "needs ib_async or ib_insync: pip install ib_async, or use --driver inprocess"
            )
        return WireDriver()
    raise UnknownDriver(f"unknown driver {name!r}; choose one of {', '.join(DRIVERS)}")
