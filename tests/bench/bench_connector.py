"""Benchmark: the IB connector from raw bytes, against ib_async's own floor and its `IB()`.

Run: `python -m tests.bench.bench_connector [--fills 10,500,4000] [--chunk BYTES]`.
One order's messages as the gateway writes them (openOrder, then per fill execDetails,
commissionReport, orderStatus; ib_async's server version), framed on the wire and cut
into socket reads of CHUNK bytes. Three sides:
- floor: ib_async's framing and decoder alone: a plain framing loop and the library's
  `Decoder.interpret` calling a wrapper that does nothing (no connector can beat it);
- connector: what IBConnector runs per read (the connection's data event): its frame
  reader and the library's decoder calling the connector's WrapperTap, which emits
  engine events into the engine's inbox (a deque, as the service's pump queues them,
  taken away after each read as the pump's batch is);
- IB(): ib_async's own client end to end (its Wrapper builds Trades and Fills).
Robust on a loaded machine: the floor and the connector run in turn (interleaved), each
measurement feeds at least --min-fills fills (small orders are fed again, to a fresh
client each pass for IB()), time is the thread's CPU time (`time.thread_time`: what the
path costs, not how long a busy machine made it wait), and the ratio connector/floor is
taken within each repetition; the median of --repeat (>= 5) is printed with its spread.
"Flat" compares the connector's cost per fill at the largest order to the smallest.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import struct
import sys
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import ib_async
from ibguard.engine.connector.ib import IBConnector
from ibguard.engine.events import BrokerEvent
from ibguard.engine.ports import Clock
from ibguard.kit.gateway.framing import encode

# the repository root, so `python tests/bench/bench_connector.py` finds the tests' frame builder
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.engine.connector.test_fill_cost import frames

VERSION = 178
_HEADER = struct.Struct(">I")


class _Clock(Clock):
    def now(self) -> datetime:
        return datetime(2024, 1, 2, 14, 31, tzinfo=timezone.utc)


class _NoOpWrapper:
    """Every wrapper callback the decoder calls does nothing."""

    defaultTimezone = timezone.utc  # read (not called) by the execDetails decoder

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def _reads(fills: int, chunk: int) -> list[bytes]:
    wire = b"".join(encode(fields) for fields in frames(VERSION, fills))
    return [wire[at : at + chunk] for at in range(0, len(wire), chunk)]


def _floor(reads: list[bytes], passes: int) -> float:
    decoder = ib_async.decoder.Decoder(_NoOpWrapper(), VERSION)
    interpret = decoder.interpret
    unpack = _HEADER.unpack_from
    started = time.thread_time()
    for _ in range(passes):
        pending = b""
        for data in reads:
            buffer = pending + data
            at, end = 0, len(buffer)
            while end - at > 4:
                (size,) = unpack(buffer, at)
                if end - at - 4 < size:
                    break
                fields = buffer[at + 4 : at + 4 + size].decode(errors="backslashreplace")
                fields = fields.split("\0")
                fields.pop()
                interpret(fields)
                at += 4 + size
            pending = buffer[at:]
    return time.thread_time() - started


def _ready(client: Any) -> None:
    """A client past the handshake (its data handler then only frames and decodes)."""
    client._serverVersion = VERSION
    client.decoder.serverVersion = VERSION
    client._apiReady = True


def _connector(reads: list[bytes], fills: int, passes: int) -> float:
    inbox: deque[BrokerEvent] = deque()  # the pump's queue: events wait there for a batch
    connector = IBConnector("127.0.0.1", 1, 7, clock=_Clock(), library=ib_async)
    connector._on_event = inbox.append  # what start() installs, without connecting
    client = connector.ib.client
    _ready(client)
    on_data = client.conn.hasData.emit  # what the socket's data_received calls
    events = 0
    started = time.thread_time()
    for _ in range(passes):
        for data in reads:
            on_data(data)
            events += len(inbox)
            inbox.clear()  # the pump takes one read's events as a batch
    elapsed = time.thread_time() - started
    assert events == passes * (1 + 3 * fills), f"{events} events for {fills} fills"
    return elapsed


def _library(reads: list[bytes], passes: int) -> float:
    clients = [ib_async.IB() for _ in range(passes)]  # a fresh client per pass: no dedupe
    feeds = []
    for ib in clients:
        _ready(ib.client)
        feeds.append(ib.client.conn.hasData.emit)
    started = time.thread_time()
    for on_data in feeds:
        for data in reads:
            on_data(data)
    return time.thread_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", default="10,500,4000")
    parser.add_argument("--chunk", type=int, default=65536, help="bytes per socket read")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--min-fills", type=int, default=4000, help="fills per measurement")
    parser.add_argument("--library-max", type=int, default=500, help="skip IB() above this")
    args = parser.parse_args()
    if args.repeat < 5:
        parser.error("--repeat must be at least 5 (a median needs company)")
    logging.getLogger("ib_async").setLevel(logging.CRITICAL)  # as a production client runs
    print(
        f"fills/s from raw bytes ({args.chunk}-byte reads; CPU time; median of {args.repeat} "
        f"interleaved repetitions of >= {args.min_fills} fills; ratio connector/floor per "
        "repetition, [min-max]):"
    )
    print(
        f"  {'fills/order':>11} {'floor':>10} {'connector':>10} {'IB()':>10} "
        f"{'connector/floor':>16} {'[spread]':>12} {'us/fill':>8}"
    )
    per_fill: dict[int, float] = {}
    for fills in (int(n) for n in args.fills.split(",")):
        reads = _reads(fills, args.chunk)
        passes = max(1, args.min_fills // fills)
        times: dict[str, list[float]] = {"floor": [], "connector": [], "IB()": []}
        for _ in range(args.repeat):
            gc.collect()  # each side starts with the same clean heap
            times["floor"].append(_floor(reads, passes))
            gc.collect()
            times["connector"].append(_connector(reads, fills, passes))
            if fills <= args.library_max:  # quadratic: 4,000 fills would take minutes
                gc.collect()
                times["IB()"].append(_library(reads, 1) * passes)
        rate = {
            name: passes * fills / statistics.median(spent)
            for name, spent in times.items()
            if spent
        }
        ratios = sorted(c / f for c, f in zip(times["connector"], times["floor"], strict=True))
        per_fill[fills] = 1e6 / rate["connector"]
        library = f"{rate['IB()']:10,.0f}" if "IB()" in rate else f"{'(skipped)':>10}"
        print(
            f"  {fills:>11,} {rate['floor']:10,.0f} {rate['connector']:10,.0f} {library} "
            f"{statistics.median(ratios):15.2f}x {f'[{ratios[0]:.2f}-{ratios[-1]:.2f}]':>12} "
            f"{per_fill[fills]:8.1f}"
        )
    smallest, largest = min(per_fill), max(per_fill)
    print(
        f"  flat: connector us/fill at {largest:,} fills/order = "
        f"{per_fill[largest] / per_fill[smallest]:.2f}x that at {smallest:,}"
    )


if __name__ == "__main__":
    main()
