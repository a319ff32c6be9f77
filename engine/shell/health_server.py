"""The HTTP health and metrics endpoint of the running service (asyncio, no threads).

Owns: `HealthServer`, a minimal HTTP/1.1 server on 127.0.0.1 by default that answers
  GET /health   200 {"status": "ok", "checks": [...]} or
                503 {"status": "unhealthy", "checks": [failed first, then passed]}
  GET /metrics  Prometheus text from `render_prometheus`
  other paths 404, other methods 405, malformed requests 400.
It only renders: the `HealthReport` and the metric samples come from callables the service
passes in, called once per request on the event loop.

Invariants: one request per connection (`Connection: close`); nothing a client sends, and
no exception from a callable, stops the server; a failing callable is answered (503 for
/health, 500 for /metrics) with the error named, and logged with a code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Final

from ibguard.engine.errors import UsageError
from ibguard.engine.health import HealthCheck, HealthReport
from ibguard.engine.logcodes import LogCode
from ibguard.engine.shell.metrics import (
    PROMETHEUS_CONTENT_TYPE,
    MetricSample,
    render_prometheus,
)

__all__ = ["HealthServer", "MetricsSource", "ReportSource"]

ReportSource = Callable[[], HealthReport]
MetricsSource = Callable[[], Iterable[MetricSample]]

_log = logging.getLogger("ibguard.engine.shell.health_server")

_JSON: Final = "application/json"
_TEXT: Final = "text/plain; charset=utf-8"
_PATHS: Final = frozenset({"/health", "/metrics"})
_MAX_HEADER_BYTES: Final = 16 * 1024


class _BadRequest(Exception):
    """The request head is not HTTP/1.x we can read; answered with 400."""


class HealthServer:
    """Serves /health and /metrics on `host:port` (port 0 picks a free one; see `port`).

    Use `await start()` / `await stop()`, or `async with HealthServer(...) as server:`.
    A client that sends nothing for `read_timeout` seconds is disconnected.
    """

    def __init__(
        self,
        *,
        report: ReportSource,
        metrics: MetricsSource,
        host: str = "127.0.0.1",
        port: int = 0,
        read_timeout: float = 10.0,
    ) -> None:
        self._report = report
        self._metrics = metrics
        self._host = host
        self._requested_port = port
        self._read_timeout = read_timeout
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The port actually bound (the ephemeral one when 0 was asked for)."""
        if self._server is None:
            raise UsageError("HealthServer.port is known only after start()")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        if self._server is not None:
            raise UsageError("HealthServer already started")
        self._server = await asyncio.start_server(
            self._serve_connection,
            self._host,
            self._requested_port,
            limit=_MAX_HEADER_BYTES,
        )

    async def stop(self) -> None:
        """Stop listening and end open connections. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        # Closing a connection makes its handler's read fail and the handler return; unlike
        # cancelling, that ends it cleanly on every Python (3.12 waits for handlers in
        # wait_closed, older versions do not).
        for writer in self._connections.values():
            writer.close()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> HealthServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None  # a start_server callback always runs in a task
        self._connections[task] = writer
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self._read_timeout)
            status, content_type, body, extra = self._respond(head)
            writer.write(_response_bytes(status, content_type, body, extra))
            await writer.drain()
        except asyncio.LimitOverrunError:
            writer.write(_error_response(HTTPStatus.BAD_REQUEST, "request head too large"))
            await _drain_quietly(writer)
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
            pass  # the client left or stalled: nobody to answer
        finally:
            del self._connections[task]
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _respond(self, head: bytes) -> tuple[HTTPStatus, str, bytes, dict[str, str]]:
        try:
            method, path = _parse_head(head)
        except _BadRequest as exc:
            return HTTPStatus.BAD_REQUEST, _JSON, _json_body({"error": str(exc)}), {}
        if path not in _PATHS:
            return HTTPStatus.NOT_FOUND, _JSON, _json_body({"error": f"no {path}"}), {}
        if method != "GET":
            error = {"error": f"{method} not allowed, use GET"}
            return HTTPStatus.METHOD_NOT_ALLOWED, _JSON, _json_body(error), {"Allow": "GET"}
        if path == "/health":
            status, body = self._health()
            return status, _JSON, body, {}
        status, content_type, body = self._prometheus()
        return status, content_type, body, {}

    def _health(self) -> tuple[HTTPStatus, bytes]:
        try:
            report = self._report()
        # The callable is the service's code; whatever it raises must become a 503
        # naming the error, never a dead endpoint.
        except Exception as exc:
            _log.error(
                "health report failed: %s",
                _describe(exc),
                extra={
                    "code": LogCode.HEALTH_REPORT_FAILED,
                    "check": "health_report",
                    "error": _describe(exc),
                },
            )
            report = HealthReport(
                checks=(HealthCheck(name="health_report", ok=False, reason=_describe(exc)),)
            )
        ordered = report.failures + tuple(check for check in report.checks if check.ok)
        payload = {
            "status": "ok" if report.healthy else "unhealthy",
            "checks": [
                {"name": check.name, "ok": check.ok, "reason": check.reason} for check in ordered
            ],
        }
        status = HTTPStatus.OK if report.healthy else HTTPStatus.SERVICE_UNAVAILABLE
        return status, _json_body(payload)

    def _prometheus(self) -> tuple[HTTPStatus, str, bytes]:
        try:
            text = render_prometheus(self._metrics())
        except Exception as exc:  # same reasoning as in _health: answer, never die
            _log.error(
                "metrics failed: %s",
                _describe(exc),
                extra={"code": LogCode.ALERT, "check": "metrics", "error": _describe(exc)},
            )
            body = f"metrics unavailable: {_describe(exc)}\n".encode()
            return HTTPStatus.INTERNAL_SERVER_ERROR, _TEXT, body
        return HTTPStatus.OK, PROMETHEUS_CONTENT_TYPE, text.encode()


def _parse_head(head: bytes) -> tuple[str, str]:
    """Method and path (query dropped) from a request head ending in a blank line."""
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise _BadRequest("request head is not ASCII") from None
    request_line, *header_lines = text[: -len("\r\n\r\n")].split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(f"malformed request line {request_line[:80]!r}")
    method, target, _version = parts
    if not target.startswith("/"):
        raise _BadRequest(f"request target must be a path, got {target[:80]!r}")
    for line in header_lines:
        name, colon, _value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _BadRequest(f"malformed header line {line[:80]!r}")
    return method, target.split("?", 1)[0]


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _json_body(payload: object) -> bytes:
    return (json.dumps(payload) + "\n").encode()


def _response_bytes(
    status: HTTPStatus, content_type: str, body: bytes, extra: dict[str, str]
) -> bytes:
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "Connection": "close",
        "Cache-Control": "no-store",
        **extra,
    }
    head = f"HTTP/1.1 {status.value} {status.phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return (head + "\r\n").encode("ascii") + body


def _error_response(status: HTTPStatus, message: str) -> bytes:
    return _response_bytes(status, _JSON, _json_body({"error": message}), {})


async def _drain_quietly(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        await writer.drain()
