"""/health over real HTTP for the matrix: serve an engine's report, and read any endpoint.

OPS-02 asks what an operator's monitor would see, so the kit reads the subject's endpoint
with a real HTTP client on 127.0.0.1 (`read_health`). `ServedHealth` runs the reference
engine's HealthServer on its own event-loop thread, because the matrix drives engines
synchronously; the report is only read while the case waits for the answer, so the engine
is never touched from two threads at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from ibguard.engine.health import HealthReport
from ibguard.engine.shell.health_server import HealthServer
from ibguard.engine.shell.metrics import MetricSample
from ibguard.kit.matrix.subject import HealthView

__all__ = ["ServedHealth", "read_health"]


def read_health(url: str, timeout: float = 5.0) -> HealthView:
    """GET `url`: 200 is healthy, 503 unhealthy with each failed check (name and reason)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    document = json.loads(body or b"{}")
    checks = document.get("checks", [])
    failed = [c for c in checks if not c.get("ok", True)]
    reasons = tuple(f"{c.get('name')}: {c.get('reason', '')}" for c in failed)
    names = tuple(str(c.get("name")) for c in failed)
    return HealthView(healthy=status == 200, reasons=reasons, failed=names)


class ServedHealth:
    """A real HealthServer on 127.0.0.1:0 in a background thread."""

    def __init__(self, report: Callable[[], HealthReport]) -> None:
        self._loop = asyncio.new_event_loop()
        self._server = HealthServer(report=report, metrics=_no_metrics)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._server.start(), self._loop).result(timeout=10)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}/health"

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def _no_metrics() -> tuple[MetricSample, ...]:
    return ()
