"""OPS-02: the real HTTP health endpoint on 127.0.0.1, read by real HTTP clients."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from ibguard.engine.errors import UsageError
from ibguard.engine.health import HealthCheck, HealthReport
from ibguard.engine.shell.health_server import HealthServer
from ibguard.engine.shell.metrics import MetricSample, engine_metrics

HEALTHY = HealthReport(
    checks=(HealthCheck(name="connected", ok=True), HealthCheck(name="positions", ok=True))
)
UNHEALTHY = HealthReport(
    checks=(
        HealthCheck(name="connected", ok=True),
        HealthCheck(name="positions", ok=False, reason="engine AAPL 100, broker AAPL 0"),
        HealthCheck(name="flat_overnight", ok=False, reason="AAPL 100 open at 04:00"),
    )
)


def some_metrics() -> tuple[MetricSample, ...]:
    return engine_metrics(
        orders_by_status={"WORKING": 2, "FILLED": 5},
        fills_total=7,
        queue_depth=0,
        clock_skew_seconds=Decimal("0.25"),
        last_event_age_seconds=1.5,
    )


def run_with_server(
    scenario: Callable[[HealthServer], Awaitable[None]],
    report: Callable[[], HealthReport] = lambda: HEALTHY,
    metrics: Callable[[], tuple[MetricSample, ...]] = some_metrics,
    **options: float,
) -> None:
    async def main() -> None:
        async with HealthServer(report=report, metrics=metrics, **options) as server:
            await scenario(server)

    asyncio.run(main())


class Response:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("ascii").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = {
            name.lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines)
        }

    def json(self) -> dict[str, object]:
        return json.loads(self.body)


async def exchange(server: HealthServer, raw_request: bytes) -> bytes:
    """Write raw bytes, read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(raw_request)
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return data


async def get(server: HealthServer, path: str, method: str = "GET") -> Response:
    request = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n"
    return Response(await exchange(server, request.encode("ascii")))


# --- /health ----------------------------------------------------------------------------


def test_healthy_report_is_200_ok_with_every_check():
    async def scenario(server: HealthServer) -> None:
        response = await get(server, "/health")
        assert response.status == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["connection"] == "close"
        assert int(response.headers["content-length"]) == len(response.body)
        assert response.json() == {
            "status": "ok",
            "checks": [
                {"name": "connected", "ok": True, "reason": ""},
                {"name": "positions", "ok": True, "reason": ""},
            ],
        }

    run_with_server(scenario)


def test_unhealthy_report_is_503_with_failed_checks_first():
    async def scenario(server: HealthServer) -> None:
        response = await get(server, "/health?verbose=1")
        assert response.status == 503
        body = response.json()
        assert body["status"] == "unhealthy"
        assert [(c["name"], c["ok"]) for c in body["checks"]] == [
            ("positions", False),
            ("flat_overnight", False),
            ("connected", True),
        ]
        assert body["checks"][0]["reason"] == "engine AAPL 100, broker AAPL 0"

    run_with_server(scenario, report=lambda: UNHEALTHY)


def test_the_report_is_fresh_on_every_request():
    reports = iter([HEALTHY, UNHEALTHY, HEALTHY])

    async def scenario(server: HealthServer) -> None:
        statuses = [(await get(server, "/health")).status for _ in range(3)]
        assert statuses == [200, 503, 200]

    run_with_server(scenario, report=lambda: next(reports))


def test_a_failing_report_is_503_naming_the_error_and_logged_with_a_code(caplog):
    def broken() -> HealthReport:
        raise RuntimeError("book unavailable")

    async def scenario(server: HealthServer) -> None:
        response = await get(server, "/health")
        assert response.status == 503
        assert response.json() == {
            "status": "unhealthy",
            "checks": [
                {
                    "name": "health_report",
                    "ok": False,
                    "reason": "RuntimeError: book unavailable",
                }
            ],
        }
        assert (await get(server, "/health")).status == 503  # still serving

    with caplog.at_level(logging.ERROR, logger="ibguard.engine.shell.health_server"):
        run_with_server(scenario, report=broken)
    assert [r.code.value for r in caplog.records] == ["HEALTH_REPORT_FAILED"] * 2
    assert caplog.records[0].error == "RuntimeError: book unavailable"


def test_a_stdlib_http_client_reads_health_and_metrics():
    def fetch(url: str) -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.status, answer.headers["Content-Type"], answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read()

    async def scenario(server: HealthServer) -> None:
        loop = asyncio.get_running_loop()
        base = f"http://127.0.0.1:{server.port}"
        status, _, body = await loop.run_in_executor(None, fetch, base + "/health")
        assert status == 503
        assert json.loads(body)["status"] == "unhealthy"
        status, content_type, body = await loop.run_in_executor(None, fetch, base + "/metrics")
        assert status == 200
        assert content_type == "text/plain; version=0.0.4; charset=utf-8"
        assert b"ibguard_fills_total 7\n" in body

    run_with_server(scenario, report=lambda: UNHEALTHY)


# --- /metrics ---------------------------------------------------------------------------


def test_metrics_are_prometheus_text():
    async def scenario(server: HealthServer) -> None:
        response = await get(server, "/metrics")
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        text = response.body.decode()
        assert 'ibguard_orders{status="FILLED"} 5\n' in text
        assert 'ibguard_orders{status="WORKING"} 2\n' in text
        assert text.count("# TYPE ibguard_orders gauge\n") == 1
        assert "# TYPE ibguard_fills_total counter\n" in text
        assert "ibguard_clock_skew_seconds 0.25\n" in text
        assert "ibguard_last_event_age_seconds 1.5\n" in text

    run_with_server(scenario)


def test_failing_metrics_are_500_naming_the_error_and_logged(caplog):
    def broken() -> tuple[MetricSample, ...]:
        raise KeyError("queue")

    async def scenario(server: HealthServer) -> None:
        response = await get(server, "/metrics")
        assert response.status == 500
        assert b"KeyError: 'queue'" in response.body

    with caplog.at_level(logging.ERROR, logger="ibguard.engine.shell.health_server"):
        run_with_server(scenario, metrics=broken)
    assert [r.code.value for r in caplog.records] == ["ALERT"]


# --- everything else --------------------------------------------------------------------


def test_unknown_path_is_404_and_other_methods_are_405():
    async def scenario(server: HealthServer) -> None:
        assert (await get(server, "/")).status == 404
        assert (await get(server, "/healthz", method="POST")).status == 404
        refused = await get(server, "/health", method="POST")
        assert refused.status == 405
        assert refused.headers["allow"] == "GET"
        assert (await get(server, "/metrics", method="DELETE")).status == 405

    run_with_server(scenario)


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /health\r\n\r\n",  # no version
        b"GET /health HTTP/2\r\n\r\n",  # not HTTP/1.x
        b"G3T /health HTTP/1.1\r\n\r\n",  # not a method
        b"GET  /health HTTP/1.1\r\n\r\n",  # two spaces
        b"GET http://x/health HTTP/1.1\r\n\r\n",  # absolute form: not supported
        b"GET /health HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /health HTTP/1.1\r\n: empty name\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost : space before colon\r\n\r\n",
        "GET /h\u00e9alth HTTP/1.1\r\n\r\n".encode(),
        b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
        b"\x16\x03\x01\x02\x00" + b"\x00" * 20_000,  # a TLS hello, far past the size cap
    ],
)
def test_bad_requests_are_400_and_the_server_keeps_serving(raw: bytes):
    async def scenario(server: HealthServer) -> None:
        response = Response(await exchange(server, raw))
        assert response.status == 400
        assert "error" in response.json()
        assert (await get(server, "/health")).status == 200

    run_with_server(scenario)


def test_a_client_that_leaves_or_stalls_does_not_hurt_the_server():
    async def scenario(server: HealthServer) -> None:
        # leaves halfway through the head
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /health HTT")
        writer.close()
        await writer.wait_closed()
        # says nothing: the server hangs up after read_timeout
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await reader.read() == b""
        writer.close()
        await writer.wait_closed()
        assert (await get(server, "/health")).status == 200

    run_with_server(scenario, read_timeout=0.05)


def test_stop_ends_open_connections_and_the_listener():
    async def main() -> None:
        server = HealthServer(report=lambda: HEALTHY, metrics=some_metrics)
        await server.start()
        port = server.port
        # a client that says nothing: its handler waits for a request head
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while not server._connections:  # yield until the server has accepted it
            await asyncio.sleep(0)
        await server.stop()
        assert await reader.read() == b""
        writer.close()
        await writer.wait_closed()
        await server.stop()  # twice is fine
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)

    asyncio.run(main())


def test_lifecycle_misuse_is_a_usage_error():
    async def main() -> None:
        server = HealthServer(report=lambda: HEALTHY, metrics=some_metrics, port=0)
        assert server.host == "127.0.0.1"
        with pytest.raises(UsageError):
            _ = server.port
        await server.start()
        assert server.port > 0
        with pytest.raises(UsageError):
            await server.start()
        await server.stop()
        with pytest.raises(UsageError):
            _ = server.port

    asyncio.run(main())
