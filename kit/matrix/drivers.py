"""Drivers: how a case's SimBroker is put in front of the subject.

Owns the `Driver` ABC, the in-process driver and the wire driver. A driver turns one
SimBroker into the `Endpoint` a subject starts against: in-process, a factory of
`SimConnector` ports; over the wire, host/port/clientId of the fake TWS gateway fronting the
same SimBroker. Cases never know which driver runs them: they script the broker and observe
it broker-side, so adding a driver adds no case code.

A driver is *synchronous* when a broker call has reached the subject by the time it
returns (in-process delivery is a function call). The wire driver is not: bytes cross a
socket. Its `settle()` runs the gateway and the subject's client until both directions are
drained and the engine has reacted to everything; the stage calls it around every broker
and subject access (stage.py), so a case's steps end at the same points under both drivers.
The wire driver has two modes, chosen by the subject (see `WireDriver`).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Final

from ibguard.engine.ports import BrokerPort
from ibguard.errors import UsageError
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.matrix.subject import Endpoint, InProcessEndpoint, Subject, WireEndpoint
from ibguard.kit.matrix.wire_loop import WireLoop, WireQuiescenceError
from ibguard.kit.matrix.wire_thread import GatewayHost
from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.inprocess import SimConnector

__all__ = [
    "DEFAULT_DRIVER",
    "DRIVERS",
    "MAX_CATCH_UPS",
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


MAX_CATCH_UPS: Final = 10_000  # catch_up() rounds one settle() may take (threaded mode)


class Driver(ABC):
    name: str
    synchronous: bool = True

    @abstractmethod
    def endpoint(
        self, broker: SimBroker, *, client_id: int, account: str, subject: Subject | None = None
    ) -> Endpoint:
        """An endpoint fronting `broker` for one subject (`subject`: the one that will
        start on it, when the driver adapts to it)."""

    def settle(self) -> None:  # noqa: B027 - optional hook
        """Return once the subject has seen everything the broker sent and the broker
        everything the subject sent (nothing to do when delivery is synchronous)."""

    def calling(self) -> AbstractContextManager[None]:
        """The context each call on the subject runs in (the stage enters it)."""
        return contextlib.nullcontext()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what endpoint() opened (sockets, threads). Called after every case."""


class InProcessDriver(Driver):
    name = "inprocess"

    def endpoint(
        self, broker: SimBroker, *, client_id: int, account: str, subject: Subject | None = None
    ) -> Endpoint:
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
    """The fake TWS gateway on 127.0.0.1 fronting the case's broker, on virtual time.

    **One-loop mode** (the default: ib_async, ib_insync, the reference connector). Gateway
    and client share one `WireLoop` on the test thread, the thread's current event loop
    while the case runs, so a subject using ib_async's synchronous API (`ib.connect`,
    `ib.sleep`) runs on it unchanged. `settle()` runs that loop until it is quiet.

    **Threaded mode** (a subject whose class sets `blocking_client = True`: IBKR's ibapi,
    whose `EClient.connect` blocks for the handshake and whose reader thread reads the
    socket). The gateway's loop runs on a thread of its own (`GatewayHost`), parked except
    while the test thread waits for it: during each call on the subject (a blocking connect
    is served) and inside `settle()`. The case scripts the broker only while it is parked,
    so faults, drops and restarts need nothing new. The kit cannot see into the client's
    threads, so the subject says when it has caught up: `settle()` runs the gateway until
    it has served every byte it received, then calls `subject.catch_up(n)` with `n`, the
    API messages the gateway has written on the subject's newest connection since the
    handshake; the subject returns once its engine has handled that many (its client's
    reader may still be queueing some). Rounds repeat until one moves nothing: no byte in
    or out at the gateway and `n` unchanged (at most MAX_CATCH_UPS). A settle that finds
    nothing moved since the last (the parked loop has nothing pending) hands nothing over.
    """

    name = "wire"
    synchronous = False

    def __init__(self) -> None:
        self._loop: WireLoop | None = None
        self._broker: SimBroker | None = None
        self._gateway: Gateway | None = None
        self._host: GatewayHost | None = None  # threaded mode only
        self._subject: Subject | None = None
        self._caught_up: tuple[int | None, tuple[int, int, int]] | None = None
        self.rounds = 0  # loop rounds run by settle() so far (a figure, not a contract)

    @property
    def threaded(self) -> bool:
        return self._host is not None

    def endpoint(
        self, broker: SimBroker, *, client_id: int, account: str, subject: Subject | None = None
    ) -> Endpoint:
        if self._loop is not None:
            raise UsageError("a wire driver fronts one broker; build a driver per stage")
        threaded = subject is not None and bool(getattr(subject, "blocking_client", False))
        loop = WireLoop(start=broker.clock.local_now().timestamp(), threaded=threaded)
        self._loop, self._broker = loop, broker
        gateway = Gateway(broker)
        if threaded:
            self._host, self._subject = GatewayHost(loop), subject
            self._host.run(gateway.start)
        else:
            asyncio.set_event_loop(loop)
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

    def calling(self) -> AbstractContextManager[None]:
        host = self._host
        if host is None or self._loop is None or self._loop.is_closed():
            return contextlib.nullcontext()
        return host.serving()

    def settle(self) -> None:
        loop, broker = self._loop, self._broker
        if loop is None or broker is None or loop.is_closed():
            return
        if self._host is not None:
            self._settle_threaded(loop, broker, self._host)
            return
        if loop.is_running():
            return
        asyncio.set_event_loop(loop)  # a case may hold several stages: this one is current
        loop.follow(broker.clock.local_now().timestamp())
        self.rounds += loop.run_until_complete(loop.quiesce())
        self._raise_errors(loop)

    def _settle_threaded(self, loop: WireLoop, broker: SimBroker, host: GatewayHost) -> None:
        loop.follow(broker.clock.local_now().timestamp())  # parked: safe from this thread
        if self._caught_up == (loop.frames_since_hello(), loop.traffic()) and not loop.pending():
            return  # nothing moved since the subject caught up: no hand-over needed
        for _ in range(MAX_CATCH_UPS):
            self.rounds += host.run(loop.quiesce)
            self._raise_errors(loop)
            sent = loop.frames_since_hello()
            state = (sent, loop.traffic())
            if sent is None or state == self._caught_up:
                return  # no connection yet, or nothing new since the subject caught up
            assert self._subject is not None  # set with the host
            with host.serving():
                self._subject.catch_up(sent)
            self._caught_up = state
        raise WireQuiescenceError(
            f"wire driver: the subject and the gateway still talk after {MAX_CATCH_UPS} "
            "catch_up() rounds"
        )

    @staticmethod
    def _raise_errors(loop: WireLoop) -> None:
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
        host, gateway = self._host, self._gateway

        async def shut_down() -> None:
            if gateway is not None:
                await gateway.stop()
            tasks = asyncio.all_tasks() - {asyncio.current_task()}
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await loop.shutdown_asyncgens()

        try:
            if host is not None:
                try:
                    host.run(shut_down)
                finally:
                    host.close()
            else:
                loop.run_until_complete(shut_down())
        finally:
            loop.close()
            if host is None:
                with contextlib.suppress(RuntimeError):
                    asyncio.set_event_loop(None)


DRIVERS: Final = ("inprocess", "wire")
DEFAULT_DRIVER: Final = "wire"


def _tws_client_importable() -> bool:
    for library in ("ib_async", "ib_insync", "ibapi"):
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
                "needs ib_async, ib_insync or ibapi: pip install ib_async, or use --driver "
                "inprocess"
            )
        return WireDriver()
    raise UnknownDriver(f"unknown driver {name!r}; choose one of {', '.join(DRIVERS)}")
