"""`IBConnector`: the engine's `BrokerPort` over a real TWS / IB Gateway, via ib_async.

Owns one broker session at a time: connecting (the API handshake only; reconciling is the
engine's job, it asks through commands after `ConnectionRestored`), carrying out commands
with the library's client encoder, and reconnecting with backoff. Broker messages are
translated by `WrapperTap` from the library decoder's raw callbacks (see tap.py for why).
It never touches engine state: it only emits events (BOUNDARY-01).

Usage in an asyncio shell::

    connector = IBConnector("127.0.0.1", 4002, client_id=7, clock=clock)
    pump = Pump(engine, connector)
    pump.start()                       # connector.start(pump.feed): connects in the background
    await connector.wait_stopped()     # after stop() or error 326

Events: `NextValidId` and `ManagedAccounts` as the session starts, then
`ConnectionRestored(data_lost=True, client_id)` once connected (first connect included:
every session starts empty); `ConnectionLost` when the socket drops, then reconnect
attempts with capped exponential backoff and seeded jitter, for as long as the outage lasts
(see reconnect.py for why it never gives up). No reconnect after error 326 (client id in
use) or after `stop()`; `stop()` ends a pending attempt too, even one whose cancellation
the library swallowed. Commands sent while
disconnected are answered with `BrokerError(code=504, "Not connected")`, as the in-process
connector does. Request ids of what-if checks and queries live far above the engine's
orderIds, so an error about one is never taken for an error about an order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import timezone, tzinfo
from enum import Enum
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ibguard.engine.commands import (
    CancelOrder,
    Command,
    PlaceOrder,
    RequestCompletedOrders,
    RequestContractDetails,
    RequestExecutions,
    RequestOpenOrders,
    RequestPositions,
    RequestServerTime,
    RequestWhatIf,
)
from ibguard.engine.connector import translate as tr
from ibguard.engine.connector.library import BrokerLibrary, load_library
from ibguard.engine.connector.reader import FrameReader
from ibguard.engine.connector.reconnect import Backoff
from ibguard.engine.connector.tap import WrapperTap
from ibguard.engine.errors import UsageError
from ibguard.engine.events import BrokerError, BrokerEvent, ConnectionLost, ConnectionRestored
from ibguard.engine.logcodes import LogCode
from ibguard.engine.ports import BrokerPort, Clock, EventHandler, ReadHandler

__all__ = ["CLIENT_ID_IN_USE", "NOT_CONNECTED", "IBConnector", "SessionState"]

log = logging.getLogger("ibguard.engine.connector")

NOT_CONNECTED: Final = 504
CLIENT_ID_IN_USE: Final = 326
_FIRST_REQUEST_ID: Final = 1 << 30  # what-if ids and query ids, never orderIds

Sleep = Callable[[float], Awaitable[None]]


class SessionState(str, Enum):
    IDLE = "idle"  # not started
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STOPPED = "stopped"  # stop() was called
    REFUSED = "refused"  # error 326: the client id is in use

    @property
    def is_final(self) -> bool:
        return self in (SessionState.STOPPED, SessionState.REFUSED)


class IBConnector(BrokerPort):
    def __init__(
        self,
        host: str,
        port: int,
        client_id: int,
        *,
        clock: Clock,
        library: object = None,
        all_open_orders: bool = True,
        connect_timeout: float = 4.0,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
        jitter_seed: int | None = None,
        tws_time_zone: str = "",
    ) -> None:
        """`tws_time_zone`: the zone TWS is logged in with; an execution or completed time TWS
        prints with no zone is read in it (the library's `TimezoneTWS` for executions, the
        tap for completed orders). Empty: the library reads such an execution time in the
        host's zone and the tap a completed time as UTC, wrong wherever they differ from
        TWS's (EDGE-05)."""
        tws_zone = _zone_named(tws_time_zone)
        self.host = host
        self.port = port
        self.client_id = client_id
        self.all_open_orders = all_open_orders
        self.connect_timeout = connect_timeout
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self._jitter = random.Random(jitter_seed)  # None: seeded from the OS
        self._lib: BrokerLibrary = load_library(library)
        self.ib: Any = self._lib.ib()
        self.ib.TimezoneTWS = tws_time_zone
        self._tap = WrapperTap(self.ib.wrapper, self._deliver, clock, tws_zone)
        # the library's decoder now calls the tap; the tap falls back to the library's wrapper
        self._tap.install(self.ib.client.decoder)
        # frames a ready session's bytes, and says where each read begins and ends
        self._reader = FrameReader(self.ib.client, self._read_begins, self._read_ends)
        self.ib.disconnectedEvent += self._on_disconnected
        self._request_ids = itertools.count(_FIRST_REQUEST_ID)
        self._on_event: EventHandler | None = None
        self._on_read: ReadHandler | None = None  # (started by read: start_by_read)
        self._read: list[BrokerEvent] | None = None  # the events of the read under way
        self._state = SessionState.IDLE
        self._task: asyncio.Task[None] | None = None
        self._lost: asyncio.Event | None = None
        self._done: asyncio.Event | None = None

    # --- BrokerPort ---------------------------------------------------------------------

    def start(self, on_event: EventHandler) -> None:
        """Connect in the background on the running loop (call it from a coroutine)."""
        self._begin()
        self._on_event = on_event

    def start_by_read(self, on_read: ReadHandler) -> bool:
        """As `start`, delivering each socket read's events in one call (see BrokerPort)."""
        self._begin()
        self._on_read = on_read
        return True

    def _begin(self) -> None:
        if self._state is not SessionState.IDLE:
            raise UsageError(f"start() once only; the connector is {self._state.value}")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise UsageError("IBConnector.start() needs a running asyncio loop") from None
        self._lost = asyncio.Event()
        self._done = asyncio.Event()
        self._state = SessionState.CONNECTING
        self._task = loop.create_task(self._supervise(), name=f"ibguard-connector-{self.client_id}")

    def send(self, command: Command) -> None:
        if self._state is not SessionState.CONNECTED:
            self._refuse(command)
            return
        try:
            self._send(command)
        except (ConnectionError, OSError):  # the socket died under us; the drop event follows
            self._refuse(command)

    # --- beyond the port ----------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def connected(self) -> bool:
        return self._state is SessionState.CONNECTED

    def stop(self) -> None:
        """The engine halted or the service ends: disconnect, never reconnect. Idempotent."""
        if self._state.is_final:
            return
        was = self._state
        self._finish(SessionState.STOPPED)
        log.info(
            "connector stopped",
            extra={"code": LogCode.SERVICE_STOPPED, "client_id": self.client_id, "was": was.value},
        )

    async def wait_stopped(self) -> SessionState:
        """Wait until the connector is done for good; returns why."""
        if self._done is None or self._task is None:
            raise UsageError("wait_stopped() before start()")
        await self._done.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self._state

    # --- commands -----------------------------------------------------------------------

    def _send(self, command: Command) -> None:
        client = self.ib.client
        if isinstance(command, PlaceOrder):
            order = self._lib.order(
                **tr.order_fields(
                    command.request,
                    account=command.account,
                    order_id=command.order_id,
                    order_ref=command.order_ref,
                )
            )
            client.placeOrder(command.order_id, self._contract(command.request.instrument), order)
        elif isinstance(command, CancelOrder):
            client.cancelOrder(command.order_id)
        elif isinstance(command, RequestOpenOrders):
            self._tap.answers.expect_open_orders()
            if self.all_open_orders:
                client.reqAllOpenOrders()
            else:
                client.reqOpenOrders()
        elif isinstance(command, RequestCompletedOrders):
            self._tap.answers.expect_completed_orders()
            client.reqCompletedOrders(False)
        elif isinstance(command, RequestExecutions):
            req_id = next(self._request_ids)
            self._tap.answers.expect_executions(req_id)
            client.reqExecutions(req_id, self._lib.execution_filter())
        elif isinstance(command, RequestPositions):
            self._tap.answers.expect_positions()
            client.reqPositions()
        elif isinstance(command, RequestServerTime):
            client.reqCurrentTime()
        elif isinstance(command, RequestContractDetails):
            req_id = next(self._request_ids)
            self._tap.answers.expect_contract_details(req_id, command.instrument)
            client.reqContractDetails(req_id, self._contract(command.instrument))
        else:
            self._send_what_if(command)

    def _send_what_if(self, command: RequestWhatIf) -> None:
        ids = [next(self._request_ids) for _ in command.orders]
        self._tap.answers.expect_what_if(command.request_id, ids)
        for order_id, request in zip(ids, command.orders, strict=True):
            fields = tr.order_fields(
                request, account=command.account, order_id=order_id, what_if=True
            )
            self.ib.client.placeOrder(
                order_id, self._contract(request.instrument), self._lib.order(**fields)
            )

    def _contract(self, instrument: Any) -> Any:
        return self._lib.contract(**tr.contract_fields(instrument))

    def _refuse(self, command: Command) -> None:
        req_id = command.order_id if isinstance(command, PlaceOrder | CancelOrder) else -1
        self._deliver(BrokerError(req_id=req_id, code=NOT_CONNECTED, message="Not connected"))

    # --- session ------------------------------------------------------------------------

    async def _supervise(self) -> None:
        assert self._lost is not None
        failures = 0
        delay: float | None = None  # None: connect at once
        while True:
            if delay is not None:
                await self._sleep(delay)
            if self._ended():  # stop() before the first attempt or during a wait
                return
            self._state = SessionState.CONNECTING
            error = await self._connect_once()  # error 326 cancels this task (see _deliver)
            if self._ended():  # stop() while connecting, its cancel swallowed
                return
            if error is not None:
                failures += 1
                delay = self.backoff.delay(failures + 1, self._jitter.random())
                log.warning(
                    "connect failed",
                    extra={
                        "code": LogCode.CONNECTION_LOST,
                        "client_id": self.client_id,
                        "attempt": failures,
                        "retry_in": round(delay, 3),
                        "error": error,
                    },
                )
                continue
            failures, delay = 0, self.backoff.delay(1, self._jitter.random())
            self._state = SessionState.CONNECTED
            log.info(
                "connected",
                extra={
                    "code": LogCode.CONNECTION_RESTORED,
                    "client_id": self.client_id,
                    "host": self.host,
                    "port": self.port,
                },
            )
            self._deliver(ConnectionRestored(data_lost=True, client_id=self.client_id))
            await self._lost.wait()
            self._lost.clear()

    def _ended(self) -> bool:
        # a method, not an inline test: stop() changes the state while we await
        return self._state.is_final

    async def _connect_once(self) -> str | None:
        """One connect attempt; None when the session is up, else why it is not.
        (Error 326 during the attempt cancels this task: see _deliver.)"""
        self._tap.answers.reset()
        try:
            await self.ib.client.connectAsync(
                self.host, self.port, self.client_id, self.connect_timeout
            )
        except Exception as exc:  # refused, timed out, dropped: the library cleaned up
            cancelling = getattr(asyncio.current_task(), "cancelling", None)  # 3.11+
            if cancelling is not None and cancelling():
                # asyncio.wait_for may turn our cancel into the connect's own error
                raise asyncio.CancelledError from exc
            return repr(exc)
        return None

    def _on_disconnected(self) -> None:
        if self._state is not SessionState.CONNECTED:
            return
        self._state = SessionState.CONNECTING
        log.warning(
            "connection lost", extra={"code": LogCode.CONNECTION_LOST, "client_id": self.client_id}
        )
        self._deliver(ConnectionLost(reason="socket closed"))
        assert self._lost is not None
        self._lost.set()

    def _finish(self, state: SessionState) -> None:
        self._state = state
        if self._task is not None:
            self._task.cancel()
        self.ib.client.disconnect()  # the session level we connected at; safe in any state
        if self._done is not None:
            self._done.set()

    # --- events -------------------------------------------------------------------------

    def _deliver(self, event: BrokerEvent) -> None:
        if (
            isinstance(event, BrokerError)
            and event.code == CLIENT_ID_IN_USE
            and not self._state.is_final
        ):
            # another session holds our clientId: never retry it in a loop (CONN-04)
            log.error(
                "client id in use: not reconnecting",
                extra={"code": LogCode.CONNECTION_STOLEN, "client_id": self.client_id},
            )
            self._finish(SessionState.REFUSED)
        if self._on_read is not None:
            read = self._read
            if read is None:  # not from a read (connect, drop, a refused command): alone
                self._on_read((event,))
            else:
                read.append(event)  # handed over with the rest of its read: _read_ends
        elif self._on_event is not None:
            self._on_event(event)

    def _read_begins(self) -> None:
        if self._on_read is not None:
            self._read = []

    def _read_ends(self) -> None:
        events, self._read = self._read, None
        if events:
            assert self._on_read is not None  # a read is only gathered for it
            self._on_read(events)


def _zone_named(name: str) -> tzinfo:
    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"tws_time_zone {name!r} is not an IANA time zone") from None
