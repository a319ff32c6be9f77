"""The fake TWS gateway: an asyncio server on 127.0.0.1 fronting one SimBroker.

Owns the listening socket, the set of live connections and the gateway-wide settings (the
server versions offered, the wire faults, whether the broker's virtual clock follows the
event loop's clock). Everything a connection does is in `connection.py`; the protocol is the
sans-IO codec in this package. Invariants: the server binds loopback unless told otherwise;
one broken connection never affects another; the server never sleeps on broker time (only
wire delays wait, in real time, bounded); `stop()` ends every connection and is idempotent.

Usage (a test or the matrix's wire driver)::

    broker = SimBroker()
    async with Gateway(broker) as gateway:      # 127.0.0.1, ephemeral port
        ib = IB(); await ib.connectAsync("127.0.0.1", gateway.port, clientId=7)
        gateway.faults.drop_after(3, client_id=7)   # wire fault
        broker.halt("AAPL")                         # broker fault

`thread_host.GatewayThread` runs the same server on a background loop for synchronous callers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Final, final

from ibguard.errors import UsageError
from ibguard.kit.gateway.connection import Connection
from ibguard.kit.gateway.frame_cache import FrameCache
from ibguard.kit.gateway.handshake import MAX_SERVER_VERSION, MIN_SERVER_VERSION
from ibguard.kit.gateway.logcodes import GatewayLogCode
from ibguard.kit.gateway.wire_faults import WireFaults
from ibguard.kit.gateway.write_batch import WriteBatch
from ibguard.kit.sim.broker import SimBroker

__all__ = ["LOOPBACK", "Gateway", "GatewayStats"]

log = logging.getLogger(__name__)

LOOPBACK: Final = "127.0.0.1"
MARKET_STEP: Final = 0.25  # seconds between market updates when following real time
# Well below a process's usual 1,024 file descriptors: a flood of idle sockets is refused
# instead of exhausting them (which refuses every client and floods the log from asyncio).
DEFAULT_MAX_CONNECTIONS: Final = 256
# A socket must finish the handshake and startApi within this; the clients' own connect
# timeout is 2-4 s.
DEFAULT_HANDSHAKE_TIMEOUT: Final = 10.0
# Refusals are logged once, then counted and summarised at most this often.
_REFUSAL_LOG_INTERVAL: Final = 10.0


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayStats:
    """Frames counted over every connection so far (closed ones included)."""

    connections: int
    messages_in: int
    messages_out: int


class Gateway:
    """One listening socket in front of ``broker``.

    ``port=0`` binds an ephemeral port (read `port` after `start`). ``follow_real_time``
    advances the broker's virtual clock by the event loop's elapsed time before each request,
    for standalone use; tests leave it off and move broker time themselves.
    """

    def __init__(
        self,
        broker: SimBroker,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        faults: WireFaults | None = None,
        follow_real_time: bool = False,
        min_version: int = MIN_SERVER_VERSION,
        max_version: int = MAX_SERVER_VERSION,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        handshake_timeout: float | None = DEFAULT_HANDSHAKE_TIMEOUT,
    ) -> None:
        if max_connections < 1:
            raise UsageError("max_connections must be at least 1")
        if handshake_timeout is not None and not handshake_timeout > 0:
            raise UsageError("handshake_timeout must be positive (or None for no limit)")
        if not MIN_SERVER_VERSION <= min_version <= max_version <= MAX_SERVER_VERSION:
            raise UsageError(
                f"server versions must lie in {MIN_SERVER_VERSION}..{MAX_SERVER_VERSION}"
            )
        self.broker = broker
        self.faults = faults if faults is not None else WireFaults()
        self.host = host
        self._requested_port = port
        self._versions = (min_version, max_version)
        self._follow = follow_real_time
        self._clock_mark: float | None = None
        self._server: asyncio.base_events.Server | None = None
        self._tasks: dict[asyncio.Task[None], Connection] = {}
        self._closed_in = 0
        self._closed_out = 0
        self._accepted = 0
        self._max_connections = max_connections
        self._handshake_timeout = handshake_timeout
        self.refused = 0  # sockets closed at once because the cap was reached
        self._refusals_unlogged = 0
        self._refusal_logged_at: float | None = None
        self._frames_out = FrameCache()
        self._writes = WriteBatch()
        self._idle = asyncio.Event()
        self._idle.set()
        self._market_clock: asyncio.Task[None] | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._server is not None:
            raise UsageError("the gateway is already started")
        self._server = await asyncio.start_server(self._serve, self.host, self._requested_port)
        sockname = self._server.sockets[0].getsockname()
        self.port = int(sockname[1])
        self._clock_mark = asyncio.get_running_loop().time()
        if self._follow:  # quotes and bars stream as real time passes, not only on requests
            self._market_clock = asyncio.get_running_loop().create_task(self._move_market())
        log.info(
            "fake TWS gateway listening on %s:%s",
            self.host,
            self.port,
            extra={"code": GatewayLogCode.GATEWAY_LISTENING, "host": self.host, "port": self.port},
        )

    async def stop(self) -> None:
        """Stop listening and end every connection. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._market_clock is not None:
            self._market_clock.cancel()
            await asyncio.gather(self._market_clock, return_exceptions=True)
        server.close()
        for connection in list(self._tasks.values()):
            connection.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()
        self._log_refusals()
        log.info(
            "fake TWS gateway on port %s stopped",
            self.port,
            extra={"code": GatewayLogCode.GATEWAY_STOPPED, "port": self.port},
        )

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- observation --------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def connections(self) -> tuple[Connection, ...]:
        """Live connections, oldest first."""
        return tuple(c for c in self._tasks.values() if not c.closed)

    def connection(self, client_id: int) -> Connection:
        """The live connection whose session started with ``client_id``."""
        for c in self._tasks.values():
            if c.client_id == client_id and not c.closed:
                return c
        raise UsageError(f"no live connection for clientId {client_id}")

    def stats(self) -> GatewayStats:
        live = list(self._tasks.values())
        return GatewayStats(
            connections=self._accepted,
            messages_in=self._closed_in + sum(c.messages_in for c in live),
            messages_out=self._closed_out + sum(c.messages_out for c in live),
        )

    # --- per connection -----------------------------------------------------------------

    async def wait_idle(self) -> None:
        """Until no connection is open (every client's close has been seen)."""
        await self._idle.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # start_server runs each callback in a task
        if len(self._tasks) >= self._max_connections:
            self._refuse(writer)
            return
        connection = Connection(
            broker=self.broker,
            faults=self.faults,
            reader=reader,
            writer=writer,
            versions=self._versions,
            before_request=self._sync_clock,
            now=self.broker.clock.broker_now,
            handshake_timeout=self._handshake_timeout,
            frames_out=self._frames_out,
            writes=self._writes,
        )
        self._accepted += 1
        self._tasks[task] = connection
        self._idle.clear()
        try:
            await connection.run()
        finally:
            del self._tasks[task]
            if not self._tasks:
                self._idle.set()
            self._closed_in += connection.messages_in
            self._closed_out += connection.messages_out
            writer.close()

    def _refuse(self, writer: asyncio.StreamWriter) -> None:
        """Over the cap: close at once. The first refusal is logged, later ones are counted
        and summarised at most every few seconds, so a flood costs a few log lines."""
        writer.close()
        self.refused += 1
        self._refusals_unlogged += 1
        now = asyncio.get_running_loop().time()
        last = self._refusal_logged_at
        if last is not None and now - last < _REFUSAL_LOG_INTERVAL:
            return
        self._log_refusals()
        self._refusal_logged_at = now

    def _log_refusals(self) -> None:
        if not self._refusals_unlogged:
            return
        log.warning(
            "refused %s connection(s): the cap of %s open connections is reached",
            self._refusals_unlogged,
            self._max_connections,
            extra={
                "code": GatewayLogCode.CONNECTION_REFUSED,
                "refused": self._refusals_unlogged,
                "max_connections": self._max_connections,
            },
        )
        self._refusals_unlogged = 0

    async def _move_market(self) -> None:
        """Standalone mode: every `MARKET_STEP` seconds broker time catches up with the loop's
        clock, and market-data subscribers hear what changed."""
        while True:
            await asyncio.sleep(MARKET_STEP)
            try:
                self._sync_clock()
            except Exception:  # our bug: logged once, the sessions go on without quotes
                log.exception(
                    "the market stopped moving", extra={"code": GatewayLogCode.MARKET_FAILED}
                )
                return

    def _sync_clock(self) -> None:
        """Standalone mode: broker time moves with the event loop's clock."""
        if not self._follow or self._clock_mark is None:
            return
        now = asyncio.get_running_loop().time()
        elapsed, self._clock_mark = now - self._clock_mark, now
        if elapsed > 0:
            self.broker.advance(elapsed)
