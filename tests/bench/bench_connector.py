"""Benchmark: the IB connector from raw bytes, against ib_async's own floor and its `IB()`.

Run: `python -m tests.bench.bench_connector [--fills 10,500,4000] [--chunk BYTES]`.
One order's messages as the gateway writes them (openOrder, then per fill execDetails,
commissionReport, orderStatus; ib_async's server version), framed on the wire and cut
into socket reads of CHUNK bytes. Three sides, interleaved, best of REPEAT, fills/s:
- floor: ib_async's framing and decoder alone: a plain framing loop and the library's
  `Decoder.interpret` calling a wrapper that does nothing (no connector can beat it);
- connector: what IBConnector runs per read (the connection's data event): its frame
  reader and the library's decoder calling the connector's WrapperTap, which emits
  engine events;
- IB(): ib_async's own client end to end (its Wrapper builds Trades and Fills).
Prints fills/s and the connector's cost relative to the floor. Asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import logging
import struct
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import ib_async
from ibguard.engine.connector.ib import IBConnector
from ibguard.engine.events import BrokerEvent
from ibguard.engine.ports import Clock
from ibguard.kit.gateway.framing import encode

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


def _floor(reads: list[bytes]) -> float:
    decoder = ib_async.decoder.Decoder(_NoOpWrapper(), VERSION)
    interpret = decoder.interpret
    started = time.perf_counter()
    pending = b""
    for data in reads:
        buffer = pending + data
        at, end = 0, len(buffer)
        while end - at > 4:
            (size,) = _HEADER.unpack_from(buffer, at)
            if end - at - 4 < size:
                break
            fields = buffer[at + 4 : at + 4 + size].decode(errors="backslashreplace").split("\0")
            fields.pop()
            interpret(fields)
            at += 4 + size
        pending = buffer[at:]
    return time.perf_counter() - started


def _ready(client: Any) -> None:
    """A client past the handshake (its data handler then only frames and decodes)."""
    client._serverVersion = VERSION
    client.decoder.serverVersion = VERSION
    client._apiReady = True


def _connector(reads: list[bytes], fills: int) -> float:
    emitted = [0]

    def count(event: BrokerEvent) -> None:  # the pump's place: the event is handed on
        emitted[0] += 1

    connector = IBConnector("127.0.0.1", 1, 7, clock=_Clock(), library=ib_async)
    connector._on_event = count  # what start() installs, without connecting
    client = connector.ib.client
    _ready(client)
    on_data = client.conn.hasData.emit  # what the socket's data_received calls
    started = time.perf_counter()
    for data in reads:
        on_data(data)
    elapsed = time.perf_counter() - started
    assert emitted[0] == 1 + 3 * fills, f"{emitted[0]} events for {fills} fills"
    return elapsed


def _library(reads: list[bytes]) -> float:
    ib = ib_async.IB()
    _ready(ib.client)
    on_data = ib.client.conn.hasData.emit
    started = time.perf_counter()
    for data in reads:
        on_data(data)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", default="10,500,4000")
    parser.add_argument("--chunk", type=int, default=65536, help="bytes per socket read")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--library-max", type=int, default=500, help="skip IB() above this")
    args = parser.parse_args()
    logging.getLogger("ib_async").setLevel(logging.CRITICAL)  # as a production client runs
    print(f"fills/s from raw bytes ({args.chunk}-byte reads, best of {args.repeat}):")
    print(f"  {'fills/order':>11} {'floor':>10} {'connector':>10} {'IB()':>10} {'vs floor':>9}")
    for fills in (int(n) for n in args.fills.split(",")):
        reads = _reads(fills, args.chunk)
        best = {"floor": float("inf"), "connector": float("inf"), "IB()": float("inf")}
        for _ in range(args.repeat):
            gc.collect()  # each side starts with the same clean heap
            best["floor"] = min(best["floor"], _floor(reads))
            gc.collect()
            best["connector"] = min(best["connector"], _connector(reads, fills))
            if fills <= args.library_max:  # quadratic: 4,000 fills would take minutes
                gc.collect()
                best["IB()"] = min(best["IB()"], _library(reads))
        rate = {name: fills / seconds for name, seconds in best.items()}
        ratio = best["connector"] / best["floor"]
        library = f"{rate['IB()']:10,.0f}" if fills <= args.library_max else f"{'(skipped)':>10}"
        print(
            f"  {fills:>11,} {rate['floor']:10,.0f} {rate['connector']:10,.0f} {library} "
            f"{ratio:8.2f}x"
        )


if __name__ == "__main__":
    main()
