"""Benchmark: the service path users run against `Engine.handle`, per fill, side by side.

Run: `python tests/bench/bench_service.py [--orders N] [--fills-per-order K] [--burst B]`.
Both sides handle the same prepared fills (ExecutionReport events) on an engine primed the
same way (connected, N acknowledged orders):
- handle: `Engine.handle(event)` in a loop, logging not configured (the bare core);
- service: `EngineService` as `ibguard engine run` composes it: the SQLite write-ahead
  journal (WAL, one transaction per batch), JSON log files at INFO (buffered, flushed per
  batch), events delivered through the port's handler in bursts of B (one socket read's
  worth) and handled when the loop gets to them.
Sides alternate, each repeated (default 5), medians printed with the ratio service/handle.
Asserts nothing: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from ibguard.engine.commands import Command
from ibguard.engine.config import EngineConfig
from ibguard.engine.engine import Engine
from ibguard.engine.events import (
    CompletedOrdersSnapshot,
    ConnectionRestored,
    Event,
    ExecutionReport,
    ExecutionsSnapshot,
    ManagedAccounts,
    NextValidId,
    OpenOrderReport,
    OpenOrdersSnapshot,
    SubmitOrder,
    Tick,
)
from ibguard.engine.model import Instrument, OrderRequest, OrderType, Side, TimeInForce
from ibguard.engine.ports import BrokerPort, Clock, EventHandler
from ibguard.engine.shell.journal import SqliteJournal
from ibguard.engine.shell.logfiles import configure_logging, lean_log_records
from ibguard.engine.shell.service import EngineService

ACCOUNT = "DU1234567"
CLIENT_ID = 7
AAPL = Instrument(symbol="AAPL", con_id=265598)
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
CONFIG = EngineConfig(account=ACCOUNT, client_id=CLIENT_ID, max_messages_per_second=100_000)


def _workload(orders: int, fills_per_order: int) -> tuple[list[Event], list[Event]]:
    """(priming events, fills): N acknowledged orders, then K one-share fills each."""
    prime: list[Event] = [
        Tick(now=T0),
        NextValidId(order_id=100),
        ManagedAccounts(accounts=(ACCOUNT,)),
        ConnectionRestored(data_lost=True, client_id=CLIENT_ID),
        OpenOrdersSnapshot(),
        CompletedOrdersSnapshot(),
        ExecutionsSnapshot(),
    ]
    quantity = Decimal(fills_per_order)
    for n in range(orders):
        request = OrderRequest(
            instrument=AAPL,
            side=Side.BUY,
            quantity=quantity,
            order_type=OrderType.LIMIT,
            limit_price=Decimal("100.00"),
            tif=TimeInForce.DAY,
        )
        prime.append(SubmitOrder(oms_id=f"o{n}", request=request))
        prime.append(
            OpenOrderReport(
                order_id=100 + n,
                client_id=CLIENT_ID,
                perm_id=900_000 + n,
                order_ref=f"ibg:o{n}",
                instrument=AAPL,
                side=Side.BUY,
                quantity=quantity,
                order_type=OrderType.LIMIT,
                limit_price=Decimal("100.00"),
                tif=TimeInForce.DAY,
                account=ACCOUNT,
                status="Submitted",
            )
        )
    fills: list[Event] = []
    for k in range(1, fills_per_order + 1):
        for n in range(orders):
            fills.append(
                ExecutionReport(
                    exec_id=f"0000e0d5.{n:04x}{k:04x}.01.01",
                    order_id=100 + n,
                    client_id=CLIENT_ID,
                    perm_id=900_000 + n,
                    order_ref=f"ibg:o{n}",
                    instrument=AAPL,
                    side=Side.BUY,
                    shares=Decimal(1),
                    price=Decimal("100.25"),
                    time=T0 + timedelta(milliseconds=k),
                    account=ACCOUNT,
                    cum_qty=Decimal(k),
                    avg_price=Decimal("100.25"),
                )
            )
    return prime, fills


class _Port(BrokerPort):
    """Takes the service's handler (what a connector does) and drops commands."""

    def __init__(self) -> None:
        self.deliver: EventHandler | None = None

    def start(self, on_event: EventHandler) -> None:
        self.deliver = on_event

    def send(self, command: Command) -> None:
        pass


class _FixedClock(Clock):
    def now(self) -> datetime:
        return T0


def time_handle(prime: list[Event], fills: list[Event]) -> float:
    engine = Engine(CONFIG)
    for event in prime:
        engine.handle(event)
    handle = engine.handle
    started = time.perf_counter()
    for event in fills:
        handle(event)
    return time.perf_counter() - started


def time_service(
    prime: list[Event], fills: list[Event], burst: int, directory: Path, level: int
) -> float:
    journal = SqliteJournal(directory / f"journal-{time.monotonic_ns()}.sqlite")
    installed = configure_logging(
        directory / "logs", max_bytes=100 * 2**20, backups=2, tz="UTC", buffered=True, level=level
    )
    port = _Port()
    service = EngineService(
        Engine(CONFIG),
        port,
        _FixedClock(),
        tick_seconds=3600,
        journal=journal,
        after_batch=installed.handler.flush,
    )

    async def drive() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        while port.deliver is None:
            await asyncio.sleep(0)
        deliver: Callable[[Event], None] = port.deliver  # type: ignore[assignment]  # intents too
        for event in prime:
            deliver(event)
        await asyncio.sleep(0)
        started = time.perf_counter()
        for start in range(0, len(fills), burst):
            for event in fills[start : start + burst]:
                deliver(event)
            await asyncio.sleep(0)  # the loop drains the burst: one batch
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        return elapsed

    try:
        return asyncio.run(drive())
    finally:
        installed.remove()
        journal.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--fills-per-order", type=int, default=10)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    prime, fills = _workload(args.orders, args.fills_per_order)
    logging.getLogger("ibguard").setLevel(logging.WARNING)  # the bare core logs nothing
    # (each service side installs its JSON log files at its level, and removes them)
    sides: dict[str, Callable[[Path], float]] = {
        "Engine.handle": lambda _: time_handle(prime, fills),
        "service: journal + JSON logs (INFO)": lambda tmp: time_service(
            prime, fills, args.burst, tmp, logging.INFO
        ),
        "service: journal, logs at WARNING": lambda tmp: time_service(
            prime, fills, args.burst, tmp, logging.WARNING
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as tmp, lean_log_records():  # as `engine run` does
        for _ in range(args.repeat):  # sides interleaved: a busy moment hits them alike
            for name, side in sides.items():
                times[name].append(side(Path(tmp)) / len(fills) * 1e6)
    base = statistics.median(times["Engine.handle"])
    print(
        f"{len(fills)} fills ({args.orders} orders x {args.fills_per_order}), bursts of "
        f"{args.burst}, median of {args.repeat} (us per fill, ratio to Engine.handle):"
    )
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<38} {median:8.1f} us  {median / base:5.2f}x")


if __name__ == "__main__":
    main()
