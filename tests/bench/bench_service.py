"""Benchmark: the service path users run against `Engine.handle`, per fill, side by side.

Run: `python tests/bench/bench_service.py [--orders N] [--fills-per-order K] [--bursts 1,20,100]`.
Both sides handle the same prepared fills (ExecutionReport events) on an engine primed the
same way (connected, N acknowledged orders):
- handle: `Engine.handle(event)` in a loop, logging not configured (the bare core);
- service: `EngineService` as `ibguard engine run` composes it: the SQLite write-ahead
  journal (WAL, one row and one transaction per batch), JSON log files at INFO (buffered,
  flushed per batch), events handed over by the port in bursts of B, a socket read at a
  time, as the IB connector does (`start_by_read`), each handled as one batch, with a
  loop step between reads. One more side at the judged burst takes them event by event,
  handled when the loop gets to them, as from a port that cannot tell where a read ends.
The burst is the shape that matters: one fill alone pays a whole commit, while fills that
arrive together (a sweep, a flatten, any moment busier than the engine) share one. The
line "service <= 3x handle" is judged at a realistic burst (`--judged`, default 20: fills
that arrive in one socket read, as a sweep or a flatten delivers them); B = 1 (every fill
alone: a commit each) and a larger burst are printed beside it.
Sides alternate, each repeated (default 7, after one round not counted that warms them),
medians printed with the ratio service/handle and the spread of the ratio over the
repetitions. The judged shape is then broken down by differences between sides: the
service without a journal, with journal rows made but not stored, stored, and logging.
Every side starts from a collected heap, and every service side with the journal codec's
kept texts forgotten, as a new process does (the first fill of each order pays for them).
Times are CPU time of the thread (`time.thread_time`: what the path costs, not how long a
loaded machine made it wait; WAL commits do not fsync) with wall-clock medians beside them.
Asserts nothing: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
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
from ibguard.engine.ports import BrokerPort, Clock, EventHandler, Journal, ReadHandler
from ibguard.engine.shell.event_codec import encode_event, forget_kept_texts
from ibguard.engine.shell.journal import SqliteJournal
from ibguard.engine.shell.logfiles import configure_logging, lean_log_records
from ibguard.engine.shell.service import EngineService

ACCOUNT = "DU1234567"
CLIENT_ID = 7
AAPL = Instrument(symbol="AAPL", con_id=265598)
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
CONFIG = EngineConfig(account=ACCOUNT, client_id=CLIENT_ID, max_messages_per_second=100_000)


def _workload(orders: int, fills_per_order: int) -> tuple[list[Event], list[Event]]:
    """(priming events, fills): N acknowledged orders, then K one-share fills each, in
    rounds (every order's k-th fill, then the next round); a round's fills share one broker
    time, as IB stamps executions to the second (the journal reuses the text of the last
    UTC time: a burst where every fill has its own second costs ~0.9 us more per fill)."""
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
    """Takes the service's handler (what a connector does) and drops commands: by read
    (`deliver_read`), unless `by_read` is False (then event by event: `deliver`)."""

    def __init__(self, by_read: bool = True) -> None:
        self.by_read = by_read
        self.deliver: EventHandler | None = None
        self.deliver_read: ReadHandler | None = None

    def start(self, on_event: EventHandler) -> None:
        self.deliver = on_event

    def start_by_read(self, on_read: ReadHandler) -> bool:
        if self.by_read:
            self.deliver_read = on_read
        return self.by_read

    def send(self, command: Command) -> None:
        pass


class _FixedClock(Clock):
    def now(self) -> datetime:
        return T0


Timing = tuple[float, float]  # (CPU seconds of this thread, wall seconds)


def _now() -> Timing:
    return time.thread_time(), time.perf_counter()


def _since(started: Timing) -> Timing:
    cpu, wall = _now()
    return cpu - started[0], wall - started[1]


def time_handle(prime: list[Event], fills: list[Event]) -> Timing:
    gc.collect()  # see time_service
    engine = Engine(CONFIG)
    for event in prime:
        engine.handle(event)
    handle = engine.handle
    started = _now()
    for event in fills:
        handle(event)
    return _since(started)


class _EncodeOnlyJournal(Journal):
    """The journal's rows made and dropped: the breakdown's side without SQLite."""

    def append(self, event: Event) -> None:
        encode_event(event)

    def events(self) -> Iterator[Event]:
        return iter(())

    def close(self) -> None:
        pass


JOURNALS: dict[str, Callable[[Path], Journal | None]] = {
    "sqlite": lambda directory: SqliteJournal(directory / f"journal-{time.monotonic_ns()}.sqlite"),
    "encode-only": lambda _: _EncodeOnlyJournal(),
    "none": lambda _: None,
}


def time_service(
    prime: list[Event],
    fills: list[Event],
    burst: int,
    directory: Path,
    level: int,
    journal_kind: str = "sqlite",
    by_read: bool = True,
) -> Timing:
    # each side starts cold, as a new service does: its first fill of each order makes the
    # text the codec keeps for that order's later fills (see event_codec._ORDER_RUNS)
    forget_kept_texts()
    # and from a collected heap: a side pays for collecting its own garbage, not for the
    # engines, journals and log files the sides before it left (a service has one of each)
    gc.collect()
    journal = JOURNALS[journal_kind](directory)
    installed = configure_logging(
        directory / "logs", max_bytes=100 * 2**20, backups=2, tz="UTC", buffered=True, level=level
    )
    port = _Port(by_read)
    service = EngineService(
        Engine(CONFIG),
        port,
        _FixedClock(),
        tick_seconds=3600,
        journal=journal,
        after_batch=installed.handler.flush,
    )

    async def drive() -> Timing:
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        while port.deliver is None and port.deliver_read is None:
            await asyncio.sleep(0)
        for event in prime:
            service.feed(event)
        bursts = [fills[start : start + burst] for start in range(0, len(fills), burst)]
        started = _now()
        if port.deliver_read is not None:
            read: Callable[[list[Event]], None] = port.deliver_read  # type: ignore[assignment]
            for each in bursts:
                read(each)  # handled as one batch before the read returns
                await asyncio.sleep(0)  # the loop's step to the next read
        else:
            deliver: Callable[[Event], None] = port.deliver  # type: ignore[assignment]
            for each in bursts:
                for event in each:
                    deliver(event)
                await asyncio.sleep(0)  # the loop drains the burst: one batch
        elapsed = _since(started)
        stop.set()
        await task
        return elapsed

    try:
        return asyncio.run(drive())
    finally:
        installed.remove()
        if journal is not None:
            journal.close()  # type: ignore[attr-defined]  # both kinds made above have one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--fills-per-order", type=int, default=10)
    parser.add_argument("--bursts", default="1,20,100", help="fills per socket read")
    parser.add_argument("--judged", type=int, default=20, help="the burst the line is judged on")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if args.repeat < 5:
        parser.error("--repeat must be at least 5 (a median needs company)")
    bursts = sorted({int(b) for b in args.bursts.split(",")} | {args.judged})
    prime, fills = _workload(args.orders, args.fills_per_order)
    logging.getLogger("ibguard").setLevel(logging.WARNING)  # the bare core logs nothing
    # (each service side installs its JSON log files at its level, and removes them)
    sides: dict[str, Callable[[Path], Timing]] = {
        "Engine.handle": lambda _: time_handle(prime, fills)
    }
    for burst in bursts:
        for level in (logging.INFO, logging.WARNING):

            def side(tmp: Path, burst: int = burst, level: int = level) -> Timing:
                return time_service(prime, fills, burst, tmp, level)

            sides[f"service, burst {burst:>3}, logs at {logging.getLevelName(level)}"] = side

    def event_by_event(tmp: Path) -> Timing:
        return time_service(prime, fills, args.judged, tmp, logging.INFO, by_read=False)

    sides[f"  burst {args.judged:>3}, INFO, event by event"] = event_by_event
    # the judged shape's breakdown: the same service at WARNING (this workload then logs
    # nothing) without a journal, and with journal rows made but never stored
    for kind, label in (("none", "no journal"), ("encode-only", "rows unstored")):

        def part(tmp: Path, kind: str = kind) -> Timing:
            return time_service(prime, fills, args.judged, tmp, logging.WARNING, kind)

        sides[f"  burst {args.judged:>3}, WARNING, {label}"] = part
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    wall: dict[str, list[float]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as tmp, lean_log_records():  # as `engine run` does
        for run in sides.values():  # a first round, not counted, warms every side
            run(Path(tmp))
        for _ in range(args.repeat):  # sides interleaved: a busy moment hits them alike
            for name, run in sides.items():
                spent = run(Path(tmp))
                cpu[name].append(spent[0] / len(fills) * 1e6)
                wall[name].append(spent[1] / len(fills) * 1e6)
    base, base_wall = cpu["Engine.handle"], wall["Engine.handle"]
    median_of = {name: statistics.median(values) for name, values in cpu.items()}
    print(
        f"{len(fills)} fills ({args.orders} orders x {args.fills_per_order}); burst = fills "
        f"handed over together, drained as one batch; median of {args.repeat}, us per fill "
        "(CPU time; wall beside), ratio to Engine.handle [spread over repetitions]:"
    )
    for name in sides:
        ratios = sorted(s / h for s, h in zip(cpu[name], base, strict=True))
        median = statistics.median(cpu[name])
        judged = (
            "  <- judged"
            if name.startswith(f"service, burst {args.judged:>3}, logs at INFO")
            else ""
        )
        print(
            f"  {name:<40} {median:6.2f} us {median / statistics.median(base):5.2f}x "
            f"[{ratios[0]:.2f}-{ratios[-1]:.2f}]   wall {statistics.median(wall[name]):6.2f} us "
            f"{statistics.median(wall[name]) / statistics.median(base_wall):5.2f}x{judged}"
        )
    judged_at = f"burst {args.judged:>3}"
    info = median_of[f"service, {judged_at}, logs at INFO"]
    warning = median_of[f"service, {judged_at}, logs at WARNING"]
    bare = median_of[f"  {judged_at}, WARNING, no journal"]
    rows = median_of[f"  {judged_at}, WARNING, rows unstored"]
    handle = median_of["Engine.handle"]
    parts = {
        "Engine.handle": handle,
        "service, pump, asyncio (no journal)": bare - handle,
        "journal rows made (encode)": rows - bare,
        "journal rows stored (SQLite)": warning - rows,
        "JSON log lines at INFO": info - warning,
    }
    print(f"the judged shape ({judged_at} at INFO, {info:.2f} us per fill) by differences:")
    for name, cost in parts.items():
        print(f"  {name:<40} {cost:6.2f} us {cost / info:6.1%}")
    print(
        f"  3x handle leaves {3 * handle - handle:.2f} us for all but handle; spent now: "
        f"{info - handle:.2f} us"
    )


if __name__ == "__main__":
    main()
