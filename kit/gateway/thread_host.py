"""`GatewayThread`: the gateway on its own event loop in a daemon thread, for synchronous
callers such as the matrix's wire driver (whose subject may run its own loop or none).

Owns the thread, its loop and the hand-over of work to it. Invariant: SimBroker is not
thread-safe, so once the thread runs, every broker control and observation goes through
`call()`, which runs the function on the gateway's loop and returns its result (or raises its
exception) in the caller's thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from ibguard.errors import UsageError
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim.broker import SimBroker

__all__ = ["GatewayThread"]

T = TypeVar("T")


class GatewayThread:
    """``with GatewayThread(broker) as gt:`` serves on 127.0.0.1:``gt.port`` until the block
    ends. Keyword arguments go to `Gateway`."""

    def __init__(self, broker: SimBroker, **gateway_kw: Any) -> None:
        self.gateway = Gateway(broker, **gateway_kw)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready: Future[int] = Future()
        self._thread = threading.Thread(target=self._main, name="ibguard-gateway", daemon=True)

    @property
    def port(self) -> int:
        return self.gateway.port

    def start(self, timeout: float = 10.0) -> int:
        """Start serving; returns the bound port (errors binding are raised here)."""
        if self._thread.is_alive() or self._ready.done():
            raise UsageError("a GatewayThread starts once")
        self._thread.start()
        return self._ready.result(timeout)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0, **kw: Any) -> T:
        """Run ``fn(*args, **kw)`` on the gateway's loop (where the broker lives)."""
        loop = self._loop
        if loop is None or not self._thread.is_alive():
            raise UsageError("the gateway thread is not running")

        async def run() -> T:
            return fn(*args, **kw)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the gateway (closing every connection) and join the thread. Idempotent."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> GatewayThread:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.gateway.start()
        except BaseException as exc:  # hand any bind failure to the starting thread
            # nothing to stop now, and this loop closes as soon as we return: clear the event
            # first, so a stop() right after the failed start() never posts to a closed loop
            self._stop = None
            self._ready.set_exception(exc)
            return
        self._ready.set_result(self.gateway.port)
        try:
            await self._stop.wait()
        finally:
            await self.gateway.stop()
