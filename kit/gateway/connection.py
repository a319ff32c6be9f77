"""One client socket at the fake gateway: handshake, startApi, requests in, frames out.

Owns the life of one connection: bytes are cut into frames by the sans-IO `FrameReader`,
requests go to the SimBroker session, and every message the broker delivers to the session's
listener is encoded at the negotiated version, passed through the wire faults and written.
Invariants: frames leave in the order the broker produced them, except where a wire fault
says otherwise or a newer position or portfolio line replaces one not yet written
(`OutgoingFrames`); a delayed frame holds back every frame after it; a malformed frame, a
refused clientId (326) or a broker-side drop closes this connection only, with a log code,
and a closed connection is never reused.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Final

from ibguard.kit.gateway.dispatch import serve_request
from ibguard.kit.gateway.errors import PeerProtocolError, RequestRefused
from ibguard.kit.gateway.frame_cache import FrameCache
from ibguard.kit.gateway.framing import NEED_DATA, ClientHello, Frame, FrameReader, encode
from ibguard.kit.gateway.handshake import UnservableVersions, negotiate_version, server_hello
from ibguard.kit.gateway.inbound import StartApi
from ibguard.kit.gateway.logcodes import GatewayLogCode
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.outgoing import OutgoingFrames, SnapshotKey, snapshot_key
from ibguard.kit.gateway.registry import decode_request, encode_message
from ibguard.kit.gateway.wire_faults import WireFaults
from ibguard.kit.gateway.wire_values import Fields
from ibguard.kit.gateway.write_batch import WriteBatch
from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.messages import Disconnected, Error, Message
from ibguard.kit.sim.session import ApiSession

__all__ = ["Connection"]

log = logging.getLogger(__name__)

_READ_SIZE: Final = 1 << 16
_CLOSE: Final = None  # marks the end of the outgoing stream in the delay queue
# the ends of the answers to reqPositions and reqAccountUpdates: their rows are never replaced
_ANSWER_ENDS: Final = frozenset({int(Out.POSITION_END), int(Out.ACCOUNT_DOWNLOAD_END)})


class Connection:
    """The server side of one socket. `run()` serves it until either end closes."""

    def __init__(
        self,
        *,
        broker: SimBroker,
        faults: WireFaults,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        versions: tuple[int, int],
        before_request: Callable[[], None],
        now: Callable[[], datetime],
        handshake_timeout: float | None = None,
        frames_out: FrameCache | None = None,
        writes: WriteBatch | None = None,
    ) -> None:
        self._broker = broker
        self._faults = faults
        self._reader = reader
        self._writer = writer
        self._versions = versions
        self._before_request = before_request
        self._now = now
        self._handshake_timeout = handshake_timeout
        # shared by the gateway's connections: a message posted to many is encoded once
        self._frames_out = frames_out if frames_out is not None else FrameCache()
        # shared too: the frames a step queued for each socket leave in one write per socket
        self._writes = writes if writes is not None else WriteBatch()
        self._frames = FrameReader(expect_hello=True)
        self.server_version = 0
        self.client_id: int | None = None
        self.session: ApiSession | None = None
        self.messages_in = 0
        self.messages_out = 0
        self.close_reason = ""
        self._closed = False
        self._held: tuple[bytes, int] | None = None  # a frame kept back by reorder_next
        self._pending: deque[tuple[float, bytes | None]] = deque()  # delayed frames
        self._drainer: asyncio.Task[None] | None = None
        self._outgoing = OutgoingFrames()
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    @property
    def closed(self) -> bool:
        return self._closed

    # --- inbound ------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = (
            None if self._handshake_timeout is None else loop.time() + self._handshake_timeout
        )
        try:
            while not self._closed:
                if self.session is None and deadline is not None:
                    # until startApi is accepted, the socket has a deadline: an idle or
                    # half-open peer does not hold a connection slot
                    data = await asyncio.wait_for(
                        self._reader.read(_READ_SIZE), max(deadline - loop.time(), 0)
                    )
                else:
                    data = await self._reader.read(_READ_SIZE)
                if not data:
                    self.close("client closed the socket")
                    break
                self._frames.feed(data)
                self._serve_buffered()
                if not self._closed:
                    self._write_outgoing()
                    await self._writer.drain()
        except PeerProtocolError as exc:
            self._log(GatewayLogCode.PEER_PROTOCOL_ERROR, "closing: %s", exc, level=logging.WARNING)
            self.close(f"protocol error: {exc}")
        except TimeoutError:  # before OSError: it is one
            self.close("handshake timeout: no startApi in time")
        except (ConnectionError, OSError) as exc:
            self.close(f"socket error: {exc}")
        except Exception as exc:  # the session boundary: one session fails alone
            self._fail(exc)
        finally:
            self.close("connection handler ended")
            if self._drainer is not None:
                await asyncio.gather(self._drainer, return_exceptions=True)

    def _serve_buffered(self) -> None:
        while not self._closed:
            message = self._frames.next_message()
            if message is NEED_DATA:
                return
            self.messages_in += 1
            if isinstance(message, ClientHello):
                self._handshake(message)
            elif isinstance(message, Frame):
                self._request(message.fields)

    def _handshake(self, hello: ClientHello) -> None:
        low, high = self._versions
        try:
            self.server_version = negotiate_version(hello, min_version=low, max_version=high)
        except UnservableVersions as refused:
            # as TWS: the handshake completes, then the error says why, then the socket closes
            self.server_version = refused.reply_version
            self._write_frame(encode(server_hello(self.server_version, self._now())))
            self._send(
                encode_message(
                    Error(reqId=-1, errorCode=refused.code, errorString=refused.text),
                    self.server_version,
                )
            )
            self._log(
                GatewayLogCode.PEER_PROTOCOL_ERROR, "closing: %s", refused, level=logging.WARNING
            )
            self.close(f"versions not served: {refused}")
            return
        self._write_frame(encode(server_hello(self.server_version, self._now())))
        self.messages_out += 1
        self._log(GatewayLogCode.SESSION_OPENED, "server version %s", self.server_version)

    def _request(self, fields: tuple[str, ...]) -> None:
        try:
            request = decode_request(fields, self.server_version)
        except RequestRefused as refused:
            self._refuse(refused)
            return
        self._before_request()
        if self.session is None:
            if not isinstance(request, StartApi):
                raise PeerProtocolError(f"{type(request).__name__} before startApi")
            self._start(request)
            return
        if not self.session.connected:
            return  # dropped at the broker; the socket is on its way down
        serve_request(request, self.session, self._broker, self._reply)

    def _refuse(self, refused: RequestRefused) -> None:
        """TWS's error for one request it cannot read; nothing reaches the broker."""
        self._log(
            GatewayLogCode.REQUEST_REFUSED,
            "refused request: %s %s",
            refused.code,
            refused.message,
            level=logging.WARNING,
        )
        error = Error(reqId=refused.req_id, errorCode=refused.code, errorString=refused.message)
        self._send(encode_message(error, self.server_version))
        if refused.fatal or self.session is None:
            self.close(f"request refused: {refused.code}")

    def _start(self, request: StartApi) -> None:
        self.client_id = request.client_id
        session = self._broker.connect(request.client_id, self._on_message)
        self.session = session
        session.live_position_updates = True  # TWS streams position changes after reqPositions
        if session.connected:
            self._log(GatewayLogCode.SESSION_STARTED, "startApi accepted")

    # --- outbound -----------------------------------------------------------------------

    def _on_message(self, message: Message) -> None:
        """The broker session's listener: runs synchronously inside broker calls, often
        inside another session's request, so nothing it raises may leave it: a failure to
        encode or send fails this connection only (SESSION_FAILED) and the caller goes on."""
        try:
            if isinstance(message, Disconnected):
                self.close(message.reason or "broker closed the session")
                return
            if isinstance(message, Error) and message.errorCode == 326:
                self._log(GatewayLogCode.CLIENT_ID_IN_USE, "refused: clientId in use")
            msg_id, data = self._frames_out.frame(message, self.server_version)
            self._send_frame(msg_id, data, snapshot_key(message))
        except Exception as exc:  # the session boundary, on the outbound side
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        log.error(
            "gateway %s clientId=%s: session failed",
            self.peer,
            self.client_id,
            exc_info=exc,
            extra={"code": GatewayLogCode.SESSION_FAILED, "client_id": self.client_id},
        )
        self.close(f"session failed: {type(exc).__name__}: {exc}")

    def _reply(self, answer: Fields | Message) -> None:
        if isinstance(answer, tuple):
            self._send(answer)
        else:
            self._on_message(answer)

    def _send(self, fields: Fields) -> None:
        self._send_frame(int(fields[0]), encode(fields))

    def _send_frame(self, msg_id: int, data: bytes, snapshot: SnapshotKey | None = None) -> None:
        if self._closed:
            return
        if not self._faults.pending and self._held is None and not self._pending:
            # the common case, once per session for every fill fanned out: straight out,
            # a position or portfolio snapshot replacing an older one still queued
            if snapshot is None:
                if msg_id in _ANSWER_ENDS:
                    self._outgoing.barrier()
                self._write_frame(data)
                self.messages_out += 1
            elif not self._queue_snapshot(snapshot, data):  # a replaced one was counted
                self.messages_out += 1
            return
        treatment = self._faults.treat(self.client_id, msg_id)
        if treatment.copies == 0:
            self._drop(f"wire fault: dropped before message {msg_id}")
            return
        frame = data if treatment.copies == 1 else data * treatment.copies
        self.messages_out += treatment.copies
        if treatment.hold and self._held is None:
            self._held = (frame, msg_id)
            return
        self._emit(frame, treatment.delay)
        if self._held is not None and not treatment.hold:
            held, self._held = self._held[0], None
            self._emit(held, 0.0)
        if treatment.drop_after:
            self._drop(f"wire fault: dropped after message {msg_id}")

    def _drop(self, reason: str) -> None:
        """A wire-level drop: the broker loses the session like a real socket death."""
        if self.session is not None and self.session.connected:
            self._broker.drop(self.session.client_id, reason)  # delivers Disconnected -> close
        self.close(reason)

    def _emit(self, data: bytes | None, delay: float) -> None:
        if not self._pending and delay <= 0:
            self._write_frame(data)
            return
        loop = asyncio.get_running_loop()
        release = loop.time() + delay
        if self._pending:
            release = max(release, self._pending[-1][0])
        self._pending.append((release, data))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain_delayed())

    async def _drain_delayed(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            release, data = self._pending[0]
            wait = release - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not self._pending:  # aborted while asleep
                break
            self._pending.popleft()
            self._write_frame(data)
        self._drainer = None

    def _write_frame(self, data: bytes | None) -> None:
        """Queue a frame for the socket; the frames of one loop step leave in one write
        (`WriteBatch`), in order."""
        if data is _CLOSE:
            self._write_outgoing()
            self._writer.close()
            return
        first = not self._outgoing
        self._outgoing.append(data)
        if first:  # queued first, so a flush run at once writes it
            self._writes.add(self._write_outgoing)

    def _queue_snapshot(self, key: SnapshotKey, data: bytes) -> bool:
        """`_write_frame` for a position or portfolio snapshot; True when it replaced an older
        one of ``key`` still queued (`OutgoingFrames`)."""
        first = not self._outgoing
        replaced = self._outgoing.append_snapshot(key, data)
        if first:
            self._writes.add(self._write_outgoing)
        return replaced

    def _write_outgoing(self) -> None:
        if not self._outgoing:
            return
        data = self._outgoing.take()
        if not self._writer.is_closing():
            self._writer.write(data)

    # --- closing ------------------------------------------------------------------------

    def close(self, reason: str) -> None:
        """End this connection: the broker session ends and the socket closes once the frames
        already produced are out (delayed ones included). Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self.close_reason = reason
        session = self.session
        if session is not None and session.connected:
            session.disconnect()  # the broker's Disconnected comes back here, already closed
        if self._held is not None:
            held, self._held = self._held[0], None
            self._emit(held, 0.0)
        self._emit(_CLOSE, 0.0)
        # a socket that never started a session (a port scan, an idle peer) logs at DEBUG:
        # a flood of them must not flood the log
        level = logging.INFO if self.session is not None else logging.DEBUG
        self._log(GatewayLogCode.SESSION_CLOSED, "closed: %s", reason, level=level)

    def abort(self) -> None:
        """Server shutdown: close now, delayed frames are lost."""
        self._pending.clear()
        if self._drainer is not None:
            self._drainer.cancel()
        self.close("gateway stopped")
        self._writer.close()

    def _log(
        self, code: GatewayLogCode, msg: str, *args: object, level: int = logging.INFO
    ) -> None:
        log.log(
            level,
            "gateway %s clientId=%s: " + msg,
            self.peer,
            self.client_id,
            *args,
            extra={"code": code, "client_id": self.client_id, "peer": self.peer},
        )
