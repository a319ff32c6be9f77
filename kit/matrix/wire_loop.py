"""The wire driver's event loop: virtual time, metered sockets, and quiescence.

Owns `WireLoop`, the one asyncio loop on which the fake TWS gateway AND the subject's broker
client run, on the test's own thread, and `WireLoop.quiesce()`, the point every case step
ends at.

Why one loop on the test's thread: SimBroker is not thread-safe and cases script it from
the test thread. With gateway and client on one loop there, the loop is not running while a
case touches the broker, so nothing races; bytes move only while the kit runs the loop.

Time is virtual: `time()` follows the case's clock (`follow()`, never backwards), counted
from the case's start, plus `STEP_DRIFT` for every step the case's clock has taken: time
passes while the host works, so a library timer set for "exactly one interval later" sees
more than that interval elapse at the case's next step, as it would under a real clock
(ib_async's request throttle compares with a strict `>`; without the drift, ticks of whole
seconds would halve its rate). Every
asyncio timer - the connector's reconnect backoff, ib_async's request throttle, connect
timeouts, a team engine's own `asyncio.sleep` - runs on the case's time, and nothing waits
in real time. When code outside the kit blocks on the loop (e.g. `ib.sleep(5)`, or awaits an
answer the gateway never gives) and the loop has nothing left to do but wait for a timer,
the loop skips ahead to that timer after `IDLE_JUMP_AFTER` real seconds of idleness, so the
wait ends (or times out) instead of hanging.

Quiescence: every TCP connection made on the loop, client side (`create_connection`) and
gateway side (`create_server`), is metered: bytes handed to the transport, bytes received.
The loop is at rest when no callback is ready to run, no byte moved since the previous
round, and every connected pair is balanced (each side received exactly what the other
wrote; a closed pair counts once both ends saw the close). `quiesce()` runs the loop round
by round until it has been at rest for `QUIET_ROUNDS` rounds in a row: the gateway has served
every request, the client has decoded every answer, and the engine has reacted to all of
it, including the answers to the commands its reactions sent. It never waits on a clock and
is bounded by `MAX_ROUNDS` (`WireQuiescenceError` says what was still moving).

Threaded mode (`WireLoop(threaded=True)`, for clients that block and read on threads of
their own, e.g. ibapi): only the gateway is on this loop, run from a thread of its own
(wire_thread.py). There is no idle jump (nothing foreign waits on this loop), quiescence
covers the gateway's side, and the gateway's ends count the API frames they write so the
driver can tell the subject how many it must have handled (`frames_since_hello`).
"""

from __future__ import annotations

import asyncio
import select
import selectors
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "IDLE_JUMP_AFTER",
    "MAX_ROUNDS",
    "QUIET_ROUNDS",
    "STEP_DRIFT",
    "WireLoop",
    "WireQuiescenceError",
]

QUIET_ROUNDS: Final = 2
STEP_DRIFT: Final = 1e-6  # virtual seconds the loop's clock gains per step of the case's clock
MAX_ROUNDS: Final = 200_000
IDLE_JUMP_AFTER: Final = 0.1  # real seconds a foreign wait may idle before timers jump

Address = tuple[Any, ...]


class WireQuiescenceError(RuntimeError):
    """The subject and the gateway never stopped talking within MAX_ROUNDS rounds."""


@dataclass(slots=True)
class _Meter:
    """One end of one TCP connection on the loop. A server end also counts the API frames it
    wrote (each is a 4-byte big-endian length, then that many bytes)."""

    local: Address
    peer: Address
    server: bool = False
    sent: int = 0
    received: int = 0
    closed: bool = False
    frames: int = 0
    sock: socket.socket | None = None  # a server end's socket, for pending()
    _frame_left: int = 0  # bytes of the frame being written that are still to come
    _prefix: bytes = b""  # a length prefix cut by a write boundary

    def count_frames(self, data: bytes | bytearray | memoryview) -> None:
        view, at = memoryview(data), 0
        while at < len(view):
            if self._frame_left:
                step = min(self._frame_left, len(view) - at)
                self._frame_left -= step
                at += step
                continue
            take = min(4 - len(self._prefix), len(view) - at)
            self._prefix += bytes(view[at : at + take])
            at += take
            if len(self._prefix) == 4:
                self.frames += 1
                self._frame_left = int.from_bytes(self._prefix, "big")
                self._prefix = b""


def _address(value: object) -> Address:
    return tuple(value) if isinstance(value, tuple | list) else (value,)


class _MeteredProtocol(asyncio.Protocol):
    """Counts the bytes of `inner`'s connection both ways and delegates everything."""

    def __init__(self, inner: asyncio.BaseProtocol, loop: WireLoop, *, server: bool) -> None:
        self.inner = inner
        self._loop = loop
        self._server = server
        self.meter: _Meter | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        meter = _Meter(
            local=_address(transport.get_extra_info("sockname")),
            peer=_address(transport.get_extra_info("peername")),
            server=self._server,
            sock=transport.get_extra_info("socket") if self._server else None,
        )
        self.meter = meter
        self._loop.track(meter)
        write = transport.write  # type: ignore[attr-defined]  # a stream transport: it has write

        def metered_write(data: bytes | bytearray | memoryview) -> None:
            if not transport.is_closing():
                meter.sent += len(data)
                if meter.server and self._loop.counts_frames:
                    meter.count_frames(data)
            write(data)

        def metered_writelines(chunks: Any) -> None:
            for chunk in chunks:  # one by one: some versions' writelines calls write itself
                metered_write(chunk)

        # the library keeps the transport itself (ib_async ignores create_connection's
        # protocol), so writes are metered on the transport instance
        transport.write = metered_write  # type: ignore[attr-defined]  # patched on the instance
        transport.writelines = metered_writelines  # type: ignore[attr-defined]  # idem
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.meter is not None:
            self.meter.received += len(data)
        self.inner.data_received(data)  # type: ignore[attr-defined]  # a stream protocol

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()  # type: ignore[attr-defined, no-any-return]  # a stream protocol

    def connection_lost(self, exc: Exception | None) -> None:
        if self.meter is not None:
            self.meter.closed = True
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class _IdleJumpSelector(selectors.BaseSelector):
    """The loop's selector: a wait for a timer that finds no I/O for IDLE_JUMP_AFTER real
    seconds moves the loop's virtual clock to that timer instead of waiting on."""

    def __init__(self, inner: selectors.BaseSelector, jump: Callable[[float], None]) -> None:
        self._inner = inner
        self._jump = jump

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout <= 0:
            return self._inner.select(timeout)
        wait = IDLE_JUMP_AFTER if timeout is None else min(timeout, IDLE_JUMP_AFTER)
        ready = self._inner.select(wait)
        if not ready and timeout is not None:
            self._jump(timeout)
        return ready

    def close(self) -> None:
        self._inner.close()

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.get_key(fileobj)

    def get_map(self) -> Any:
        return self._inner.get_map()


class WireLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose clock is the case's and whose sockets are metered.

    `threaded=True` is the loop of a gateway serving clients on other threads (the wire
    driver's threaded mode): no idle jump (nothing foreign blocks this loop; its timers wait
    for the case's clock), and the gateway's ends count the frames they write
    (`frames_since_hello`)."""

    def __init__(self, start: float, *, threaded: bool = False) -> None:
        self._origin = start  # the case's clock at the start, in seconds
        self._case = start
        self._drift = 0.0
        self._now = 0.0
        inner = selectors.DefaultSelector()
        super().__init__(inner if threaded else _IdleJumpSelector(inner, self._jump))
        self.counts_frames = threaded
        self._meters: list[_Meter] = []
        self._newest_server: _Meter | None = None
        self._listeners: list[Any] = []
        self.errors: list[dict[str, Any]] = []
        self.set_exception_handler(self._record_error)

    # --- virtual time -------------------------------------------------------------------

    def time(self) -> float:
        return self._now

    def follow(self, seconds: float) -> None:
        """The case's clock reads `seconds`: timers due by then fire on the next round."""
        if seconds > self._case:
            self._case = seconds
            self._drift += STEP_DRIFT
            self._now = max(self._now, seconds - self._origin + self._drift)

    def _jump(self, seconds: float) -> None:
        self._now += seconds

    # --- metering -----------------------------------------------------------------------

    async def create_connection(  # type: ignore[override]  # only the arguments the clients pass
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], *args: Any, **kwargs: Any
    ) -> tuple[asyncio.Transport, asyncio.BaseProtocol]:
        transport, protocol = await super().create_connection(
            self._metered(protocol_factory, server=False), *args, **kwargs
        )
        return transport, getattr(protocol, "inner", protocol)

    async def create_server(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], *args: Any, **kwargs: Any
    ) -> asyncio.Server:
        server = await super().create_server(
            self._metered(protocol_factory, server=True), *args, **kwargs
        )
        self._listeners.extend(server.sockets)  # a connection waiting counts as pending
        return server

    def _metered(
        self, factory: Callable[[], asyncio.BaseProtocol], *, server: bool
    ) -> Callable[[], asyncio.BaseProtocol]:
        def make() -> asyncio.BaseProtocol:
            inner = factory()
            if isinstance(inner, asyncio.BufferedProtocol):
                return inner  # not metered (neither the gateway nor the IB clients use one)
            return _MeteredProtocol(inner, self, server=server)

        return make

    def track(self, meter: _Meter) -> None:
        self._meters.append(meter)
        if meter.server:
            self._newest_server = meter

    def pending(self) -> bool:
        """For a parked threaded loop, from the thread that parked it: is there anything to
        run (a ready callback, a timer due, bytes waiting on a server socket, a connection
        waiting to be accepted)?"""
        if getattr(self, "_ready", None):
            return True
        timers = getattr(self, "_scheduled", None)
        if timers and timers[0].when() <= self.time():
            return True
        socks = [m.sock for m in self._meters if m.sock is not None and not m.closed]
        socks = [s for s in (*socks, *self._listeners) if s.fileno() >= 0]
        return bool(socks) and bool(select.select(socks, [], [], 0)[0])

    def frames_since_hello(self) -> int | None:
        """API messages the server wrote on its newest connection after the first frame
        (the handshake's server-version answer, which a client reads inside its connect),
        plus one for the connection's end once it is closed (a client sees the end of the
        stream too); kept after the close, until a newer connection is accepted. None before
        the first connection."""
        meter = self._newest_server
        if meter is None:
            return None
        return max(meter.frames - 1, 0) + meter.closed

    def _pairs(self) -> tuple[list[tuple[_Meter, _Meter]], list[_Meter]]:
        ends = {(m.local, m.peer): m for m in self._meters}
        pairs: list[tuple[_Meter, _Meter]] = []
        alone: list[_Meter] = []
        for meter in self._meters:
            other = ends.get((meter.peer, meter.local))
            if other is None:
                alone.append(meter)
            elif id(meter) < id(other):
                pairs.append((meter, other))
        return pairs, alone

    def traffic(self) -> tuple[int, int, int]:
        """Bytes written and read over every metered socket, and how many are closed."""
        return (
            sum(m.sent for m in self._meters),
            sum(m.received for m in self._meters),
            sum(m.closed for m in self._meters),
        )

    def unsettled(self) -> list[str]:
        """What is still moving: pending callbacks and unbalanced connections."""
        moving: list[str] = []
        ready = len(getattr(self, "_ready", ()))
        if ready:
            moving.append(f"{ready} callbacks ready")
        pairs, _ = self._pairs()
        for a, b in pairs:
            if a.closed and b.closed:
                continue
            if a.closed != b.closed or a.sent != b.received or b.sent != a.received:
                moving.append(
                    f"{a.local}->{a.peer}: sent {a.sent}/received {b.received}, "
                    f"back {b.sent}/{a.received}, closed {a.closed}/{b.closed}"
                )
        return moving

    def _forget_closed(self) -> None:
        pairs, alone = self._pairs()
        done = {id(m) for pair in pairs if pair[0].closed and pair[1].closed for m in pair}
        done |= {id(m) for m in alone if m.closed}
        if done:
            self._meters = [m for m in self._meters if id(m) not in done]

    async def quiesce(self) -> int:
        """Run until at rest for QUIET_ROUNDS rounds in a row; returns the rounds run."""
        quiet = 0
        last: tuple[int, int, int] | None = None
        for rounds in range(1, MAX_ROUNDS + 1):
            await asyncio.sleep(0)
            now = self.traffic()
            if now == last and not self.unsettled():
                quiet += 1
                if quiet >= QUIET_ROUNDS:
                    self._forget_closed()
                    return rounds
            else:
                quiet = 0
            last = now
        raise WireQuiescenceError(
            f"wire driver: no quiescence after {MAX_ROUNDS} rounds: "
            + ("; ".join(self.unsettled()) or f"traffic still moving {self.traffic()}")
        )

    # --- errors -------------------------------------------------------------------------

    def _record_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors.append(context)

    def take_errors(self) -> list[dict[str, Any]]:
        errors, self.errors = self.errors, []
        return errors
