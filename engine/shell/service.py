"""The engine as a service: the asyncio shell around the sans-IO core.

Owns the loop that a deployment runs: it wires the connector's events into the engine
through the pump, ticks the engine with broker time once a second (the host clock corrected
by the measured skew), serves /health and /metrics, and stops the connector for good when
the engine halts (no reconnect loop after 326 or an account mismatch). Log files and the
choice of connector are the caller's (`ibguard engine run` composes them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from threading import get_ident

from ibguard.engine.engine import Engine
from ibguard.engine.errors import ConfigError
from ibguard.engine.events import BrokerEvent, Event, Tick
from ibguard.engine.health import HealthReport
from ibguard.engine.logcodes import LogCode
from ibguard.engine.ports import BrokerPort, Clock, Journal
from ibguard.engine.shell.health_server import HealthServer
from ibguard.engine.shell.metrics import MetricSample, engine_metrics
from ibguard.engine.shell.pump import Pump

__all__ = ["EngineService"]

_log = logging.getLogger("ibguard.engine.service")


class EngineService:
    def __init__(
        self,
        engine: Engine,
        port: BrokerPort,
        clock: Clock,
        *,
        connect: Callable[[], Awaitable[None]] | None = None,
        disconnect: Callable[[], Awaitable[None]] | None = None,
        health_host: str = "127.0.0.1",
        health_port: int = 0,
        tick_seconds: float = 1.0,
        journal: Journal | None = None,
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self._clock = clock
        self._connect = connect
        self._disconnect = disconnect
        self._tick_seconds = tick_seconds
        self._pump = Pump(engine, port, journal)
        self._enqueue = self._pump.enqueue
        self._after_batch = after_batch
        self._drain_scheduled = False
        # the loop `run` serves on and its thread, while it does: `_on_event` asks these
        # rather than asyncio.get_running_loop(), which costs a getpid() system call on
        # every burst (Python < 3.12)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._closed = False
        self._last_event_at: datetime | None = None
        self._halt_handled = False
        self._health_port = health_port
        self.health_server = HealthServer(
            report=self.health, metrics=self.metrics, host=health_host, port=health_port
        )

    def health(self) -> HealthReport:
        return self.engine.health()

    def metrics(self) -> tuple[MetricSample, ...]:
        engine = self.engine
        age = (
            (self._clock.now() - self._last_event_at).total_seconds()
            if self._last_event_at is not None
            else -1.0
        )
        return engine_metrics(
            orders_by_status={s.value: n for s, n in engine.status_counts().items()},
            fills_total=engine.fills_total,
            queue_depth=engine.queue_depth,
            clock_skew_seconds=engine.skew or 0.0,
            last_event_age_seconds=age,
        )

    def feed(self, event: Event) -> None:
        """Hand the engine an intent (SubmitOrder, RequestCancel, FlattenAll, ...) now."""
        self._pump.feed(event)
        self._batch_done()

    def _on_event(self, event: BrokerEvent) -> None:
        # A socket read delivers its messages one callback each: gather them and handle
        # them once the read is done, as one batch (one journal transaction, one log flush).
        if self._drain_scheduled:  # (never while closed: see run)
            self._enqueue(event)  # same socket read as the batch's first event
            return
        if self._closed:
            return  # the service has stopped: the next start reconciles with the broker
        self._enqueue(event)
        self._last_event_at = self._clock.now()
        loop = self._loop
        if loop is None or get_ident() != self._loop_thread:
            # not from the loop `run` serves on (tests, a synchronous connector): now
            self._drain()
            return
        self._drain_scheduled = True
        loop.call_soon(self._drain)

    def _on_read(self, events: Sequence[BrokerEvent]) -> None:
        # A port that tells where a socket read ends hands over its events at once, when
        # it is done: they are one batch, handled now (no loop step in between). From
        # inside a batch (an answer to a command being sent) they queue behind it.
        if self._closed:
            return  # the service has stopped: the next start reconciles with the broker
        self._last_event_at = self._clock.now()
        self._pump.feed_all(events)
        self._batch_done()

    def _drain(self) -> None:
        # after the stop nothing new is queued (see _on_event): a late drain finds nothing
        self._drain_scheduled = False
        self._pump.drain()
        self._batch_done()

    def _batch_done(self) -> None:
        if self._after_batch is not None:
            self._after_batch()

    def tick(self) -> None:
        """One tick of broker time; stops the connector once the engine has halted."""
        self._pump.feed(Tick(now=self.engine.broker_time(self._clock.now())))
        self._batch_done()

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set (SIGINT/SIGTERM in the CLI) or the engine halts.

        The health address is bound first: when it cannot be (port taken, host unknown)
        this raises `ConfigError` before any broker session exists, so nothing is left
        running. Once started, leaving for any reason ends the broker session too.
        """
        await self._start_health_server()
        self._loop, self._loop_thread = asyncio.get_running_loop(), get_ident()
        try:
            port = self._pump.port
            if not port.start_by_read(self._on_read):
                port.start(self._on_event)
            _log.info(
                "engine service started",
                extra={"code": LogCode.SERVICE_STARTED, "health_port": self.health_server.port},
            )
            if self._connect is not None:
                await self._connect()
            while not stop.is_set():
                self.tick()
                if self.engine.halted and not self._halt_handled:
                    # a halted engine sends nothing; dropping the session also stops the
                    # connector from reconnecting with the same clientId in a loop
                    self._halt_handled = True
                    if self._disconnect is not None:
                        await self._disconnect()
                try:
                    await asyncio.wait_for(stop.wait(), self._tick_seconds)
                except asyncio.TimeoutError:
                    continue
        finally:
            self._drain()  # what arrived before the stop is stored and handled
            self._closed = True  # what arrives after it is not (the journal may be gone)
            self._loop = None
            if self._disconnect is not None and not self._halt_handled:
                await self._disconnect()
            await self.health_server.stop()
            _log.info("engine service stopped", extra={"code": LogCode.SERVICE_STOPPED})

    async def _start_health_server(self) -> None:
        server = self.health_server
        try:
            await server.start()
        except OSError as exc:  # EADDRINUSE, EACCES, or a host name that does not resolve
            reason = exc.strerror or str(exc)
            raise ConfigError(
                [
                    f"health_host/health_port: cannot serve /health on "
                    f"{server.host}:{self._health_port}: {reason}; "
                    "choose another --health-port (0 picks a free one) or --health-host"
                ]
            ) from None
