"""Running an asyncio test scenario: in a fresh event loop, bounded in time, and waiting on
a condition without sleeping longer than it takes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["run", "until"]

T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    """Run one scenario in a fresh event loop; fail it after `timeout` seconds."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), timeout)

    return asyncio.run(bounded())


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Return once `predicate()` holds, polling every 5 ms; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)
