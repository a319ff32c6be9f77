"""Benchmark: the gateway codec against the raw ib_async decoder/encoder, side by side; the
gateway's orders per second and p99 latency at 1, 10 and 50 clients; memory over 20k orders.

Run: `python tests/bench/bench_gateway.py [--messages N] [--orders N] [--memory-orders N]
[--memory-only]`.
Everything is measured side by side in one process and printed as rates and ratios; nothing
is asserted (timings depend on the machine).

Codec, two directions, same messages:
- server -> client: SimBroker messages of a filled order (openOrder, orderStatus, execDetails,
  commissionReport) encoded by the gateway (`encode_message` + `framing.encode`), and the
  same bytes framed and interpreted by ib_async's `Decoder` (a no-op wrapper);
- client -> server: placeOrder bytes written by ib_async's `Client.placeOrder`, and the same
  bytes read back by the gateway (`FrameReader` + `decode_request`).
Framing on the ib_async side is a plain offset loop (its client's own buffer slicing is
quadratic on big buffers, which would flatter the gateway).

Clients: N unmodified ib_async clients connected to one gateway over loopback (same process,
same event loop, as the soak test), each keeping WINDOW market orders in flight until the
round's orders are filled; orders per second of the whole round, the p50/p99 latency from
placeOrder to Filled and the frames the gateway sent per order (its fan-out: position and
portfolio lines to every client, one per key per loop step: `kit/gateway/outgoing.py`);
sides interleaved (1, 10, 50, 1, 10, 50, ...) and the median of the repetitions reported,
with each N's ratio to one client. At 1 and 10 clients the same rounds
also run with the day kept all in memory (no archive), interleaved, for the archive's cost,
and with raw socket clients that subscribe as ib_async does but decode nothing (the gateway's
own fan-out cost, without ib_async's decoding on the same CPU).

Memory, all within ONE trading day (the day's finished orders and executions are all kept,
for reqCompletedOrders and reqExecutions): one session places market orders in process (the
broker and the gateway's encoders, no sockets), measured at 0, 1/4, 1/2 and all of the orders
by tracemalloc and, in a second untraced run, by RSS; then one raw socket client through the
gateway, tracemalloc counting only ibguard's kit code. Each prints bytes per order so far and
the slope after warm-up (first quarter to the end; ~0 is flat). Then the same orders spread
over several trading days (yesterday pruned at `new_day`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import struct
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ibguard.kit.gateway.framing import Frame, FrameReader, encode, encode_client_hello
from ibguard.kit.gateway.inbound import PlaceOrder, decode_request
from ibguard.kit.gateway.registry import encode_message
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim import messages as sim

VERSION = 178
_HEADER = struct.Struct(">I")


class _NoOpWrapper:
    """Every wrapper callback the decoder calls does nothing."""

    defaultTimezone = timezone.utc  # read (not called) by the execDetails decoder

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def _order_messages() -> list[sim.Message]:
    contract = sim.Contract(conId=8314, symbol="AAPL", primaryExchange="NYSE", localSymbol="AAPL")
    order = sim.Order(
        orderId=11,
        clientId=7,
        permId=1104000001,
        action="BUY",
        totalQuantity=Decimal(100),
        orderType="LMT",
        lmtPrice=Decimal("187.25"),
        account="DU1234567",
        orderRef="oms:abc-1",
    )
    status = sim.OrderStatus(
        orderId=11,
        status="Filled",
        filled=Decimal(100),
        remaining=Decimal(0),
        avgFillPrice=Decimal("187.25"),
        permId=1104000001,
        parentId=0,
        lastFillPrice=Decimal("187.25"),
        clientId=7,
    )
    execution = sim.Execution(
        execId="0000e0d5.6553a1b5.01.01",
        time=datetime(2024, 1, 2, 14, 30, tzinfo=timezone.utc),
        acctNumber="DU1234567",
        exchange="ISLAND",
        side="BOT",
        shares=Decimal(100),
        price=Decimal("187.25"),
        permId=1104000001,
        clientId=7,
        orderId=11,
        cumQty=Decimal(100),
        avgPrice=Decimal("187.25"),
        orderRef="oms:abc-1",
    )
    return [
        sim.OpenOrder(
            orderId=11, contract=contract, order=order, orderState=sim.OrderState(status="Filled")
        ),
        status,
        sim.ExecDetails(reqId=-1, contract=contract, execution=execution),
        sim.CommissionReport(execId=execution.execId, commission=Decimal("1.00")),
    ]


def _rate(n: int, action: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return n / best


def _ib_async_frames(data: bytes) -> list[list[str]]:
    out, pos = [], 0
    while pos < len(data):
        (length,) = _HEADER.unpack_from(data, pos)
        fields = data[pos + 4 : pos + 4 + length].decode(errors="backslashreplace").split("\0")
        fields.pop()
        out.append(fields)
        pos += 4 + length
    return out


def server_to_client(n: int) -> tuple[float, float]:
    from ib_async.decoder import Decoder

    messages = (_order_messages() * (n // 4 + 1))[:n]

    def gateway_encode() -> bytes:
        return b"".join(encode(encode_message(m, VERSION)) for m in messages)

    data = gateway_encode()
    decoder: Any = Decoder(_NoOpWrapper(), VERSION)  # type: ignore[arg-type]

    def ib_async_decode() -> None:
        for fields in _ib_async_frames(data):
            decoder.interpret(fields)

    return _rate(n, gateway_encode), _rate(n, ib_async_decode)


def _ib_async_writer() -> tuple[Any, list[bytes]]:
    """An ib_async `Client` at VERSION whose requests land, framed, in the returned list."""
    from ib_async.client import Client

    chunks: list[bytes] = []
    client: Any = Client(SimpleNamespace())  # type: ignore[arg-type]
    client.conn = SimpleNamespace(sendMsg=chunks.append)
    client.connState = Client.CONNECTED
    client._serverVersion = VERSION
    client.MaxRequests = 0
    return client, chunks


def client_to_server(n: int) -> tuple[float, float]:
    import ib_async

    client, chunks = _ib_async_writer()
    contract = ib_async.Stock("AAPL", "SMART", "USD", conId=8314)
    order = ib_async.LimitOrder("BUY", 100, 187.25, orderRef="oms:abc-1", account="DU1234567")

    def ib_async_encode() -> None:
        chunks.clear()
        for order_id in range(n):
            client.placeOrder(order_id + 1, contract, order)

    ib_async_encode()
    data = b"".join(chunks)

    def gateway_decode() -> None:
        reader = FrameReader(expect_hello=False)
        reader.feed(data)
        count = 0
        while isinstance(frame := reader.next_message(), Frame):
            assert isinstance(decode_request(frame.fields, VERSION), PlaceOrder)
            count += 1
        assert count == n

    return _rate(n, gateway_decode), _rate(n, ib_async_encode)


WINDOW = 5  # market orders each client keeps in flight
ARCHIVE_BATCH = BrokerConfig().objects_per_archive_batch  # the SimBroker's default
CLIENT_COUNTS = (1, 10, 50)
IN_MEMORY_COUNTS = (1, 10)  # also measured with the day all in memory (no archive)


def _quiet_broker(archive_batch: int = ARCHIVE_BATCH) -> SimBroker:
    return SimBroker(
        BrokerConfig(
            rate_limit_per_second=10**9,
            farm_status_messages=False,
            objects_per_archive_batch=archive_batch,
        )
    )


async def _client_orders(ib: Any, orders: int, latencies: list[float]) -> None:
    import ib_async

    stock = ib_async.Stock("AAPL", "SMART", "USD")
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(WINDOW)
    pending: dict[int, tuple[float, asyncio.Future[None]]] = {}

    def on_status(trade: Any) -> None:
        entry = pending.get(trade.order.orderId)
        if entry is not None and trade.orderStatus.status == "Filled":
            del pending[trade.order.orderId]
            latencies.append(time.perf_counter() - entry[0])
            entry[1].set_result(None)
            slots.release()

    ib.orderStatusEvent += on_status
    done: list[asyncio.Future[None]] = []
    for n in range(orders):
        await slots.acquire()
        future: asyncio.Future[None] = loop.create_future()
        trade = ib.placeOrder(stock, ib_async.MarketOrder("BUY" if n % 2 == 0 else "SELL", 1))
        pending[trade.order.orderId] = (time.perf_counter(), future)
        done.append(future)
    await asyncio.gather(*done)
    ib.orderStatusEvent -= on_status


async def _round(
    clients: int, total_orders: int, archive_batch: int = ARCHIVE_BATCH
) -> tuple[float, float, float, float]:
    """orders/s, p50 and p99 latency (ms) of one round of ``total_orders``, and the frames
    the gateway sent per order (to every client: the fan-out)."""
    import ib_async

    per_client = max(total_orders // clients, 1)
    async with Gateway(_quiet_broker(archive_batch)) as gateway:
        ibs = []
        try:
            for cid in range(1, clients + 1):
                ib = ib_async.IB()
                await ib.connectAsync("127.0.0.1", gateway.port, clientId=cid, timeout=20)
                ib.client.MaxRequests = 0
                ibs.append(ib)
            latencies: list[float] = []
            sent_before = gateway.stats().messages_out
            started = time.perf_counter()
            await asyncio.gather(*(_client_orders(ib, per_client, latencies) for ib in ibs))
            seconds = time.perf_counter() - started
            frames = gateway.stats().messages_out - sent_before
        finally:
            for ib in ibs:
                ib.disconnect()
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    orders = per_client * clients
    return orders / seconds, statistics.median(ms), p99, frames / orders


def clients_side_by_side(
    total_orders: int, repeats: int
) -> dict[tuple[int, bool], tuple[float, ...]]:
    """Per (clients, archived): median orders/s, p50 and p99 ms, frames sent per order. The
    sides with the day kept all in memory (no archive) at 1 and 10 clients show what
    archiving costs."""
    sides = [(n, True) for n in CLIENT_COUNTS] + [(n, False) for n in IN_MEMORY_COUNTS]
    runs: dict[tuple[int, bool], list[tuple[float, float, float, float]]] = {s: [] for s in sides}
    for _ in range(repeats):
        for n, archived in sides:  # interleaved, so load on the machine hits every side
            batch = ARCHIVE_BATCH if archived else total_orders + 1
            runs[(n, archived)].append(asyncio.run(_round(n, total_orders, batch)))
    return {
        side: tuple(statistics.median(r[i] for r in rs) for i in range(4))
        for side, rs in runs.items()
    }


async def _read_until(reader: asyncio.StreamReader, frames: FrameReader, msg_id: str) -> None:
    """Read frames, skipping them, through the first whose message id is ``msg_id``."""
    while True:
        message = frames.next_message()
        if isinstance(message, Frame):
            if message.fields[0] == msg_id:
                return
            continue
        frames.feed(await reader.read(1 << 16))


async def _raw_client_orders(port: int, client_id: int, orders: int) -> None:
    """One raw socket client subscribed as ib_async subscribes at connect (reqPositions,
    reqAccountUpdates), keeping WINDOW market orders in flight; it decodes nothing but the
    frame boundaries and counts commission reports (one per filled order)."""
    import ib_async

    client, chunks = _ib_async_writer()
    stock = ib_async.Stock("AAPL", "SMART", "USD")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    frames = FrameReader(expect_hello=False)

    async def until(msg_id: str) -> None:
        await _read_until(reader, frames, msg_id)

    def place(order_id: int) -> None:
        chunks.clear()
        side = "BUY" if order_id % 2 else "SELL"
        client.placeOrder(order_id, stock, ib_async.MarketOrder(side, 1))
        writer.write(b"".join(chunks))

    writer.write(encode_client_hello(VERSION, VERSION))
    await until(str(VERSION))
    writer.write(encode(["71", "2", str(client_id), ""]))
    await until("9")  # nextValidId
    writer.write(encode(["61", "1"]))  # reqPositions
    await until("62")
    writer.write(encode(["6", "2", "1", "DU1234567"]))  # reqAccountUpdates
    await until("54")
    sent = done = 0
    while sent < min(WINDOW, orders):
        sent += 1
        place(sent)
    while done < orders:
        await until("59")  # commissionReport: that order is filled
        done += 1
        if sent < orders:
            sent += 1
            place(sent)
    writer.close()


async def _raw_round(clients: int, total_orders: int) -> float:
    per_client = max(total_orders // clients, 1)
    async with Gateway(_quiet_broker()) as gateway:
        assert gateway.broker.accounts[0] == "DU1234567"
        started = time.perf_counter()
        await asyncio.gather(
            *(_raw_client_orders(gateway.port, cid, per_client) for cid in range(1, clients + 1))
        )
        return per_client * clients / (time.perf_counter() - started)


def raw_clients_side_by_side(total_orders: int, repeats: int) -> dict[int, float]:
    """Median orders/s of the gateway alone at 1 and 10 raw clients (interleaved): what the
    gateway's fan-out costs without ib_async's decoding sharing the CPU."""
    runs: dict[int, list[float]] = {n: [] for n in IN_MEMORY_COUNTS}
    for _ in range(repeats):
        for n in IN_MEMORY_COUNTS:
            runs[n].append(asyncio.run(_raw_round(n, total_orders)))
    return {n: statistics.median(rs) for n, rs in runs.items()}


def _memory_session(
    archive_batch: int = ARCHIVE_BATCH,
) -> tuple[SimBroker, Any]:
    from ibguard.kit.gateway.framing import encode as frame

    broker = _quiet_broker(archive_batch)

    def to_wire(message: sim.Message) -> None:
        if isinstance(message, sim.TwsMessage):
            frame(encode_message(message, VERSION))

    session = broker.connect(1, to_wire)
    session.req_positions()
    session.req_account_updates(True, broker.accounts[0])
    return broker, session


def _place(session: Any, n: int) -> None:
    order = sim.Order(action="BUY" if n % 2 else "SELL", totalQuantity=Decimal(1), orderType="MKT")
    session.place_order(n, sim.Contract(symbol="AAPL"), order)


def _rss() -> int:
    """Resident set size now (Linux), in bytes; 0 where /proc is missing."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def memory_one_day(orders: int, *, traced: bool) -> list[tuple[int, float]]:
    """Bytes grown (tracemalloc's traced size, or RSS) at 0, 1/4, 1/2 and all of ``orders``
    market orders placed in ONE trading day by one in-process session (broker + the
    gateway's encoders): the day's finished orders and executions are all kept, since
    reqCompletedOrders and reqExecutions answer for the whole day."""
    broker, session = _memory_session()
    marks = sorted({0, orders // 4, orders // 2, orders})
    gc.collect()
    if traced:
        tracemalloc.start()
    measure = (lambda: tracemalloc.get_traced_memory()[0]) if traced else _rss
    base, placed, out = measure(), 0, []
    for mark in marks:
        while placed < mark:
            placed += 1
            _place(session, placed)
        gc.collect()
        out.append((placed, float(measure() - base)))
    if traced:
        tracemalloc.stop()
    del broker, session
    return out


def archive_cost_side_by_side(orders: int, repeats: int) -> tuple[float, float]:
    """In-process orders/s (one session, broker + encoders) with the day archived in batches
    and with every finished order kept in memory, interleaved; medians of ``repeats``."""
    rates: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeats):
        for archived in (True, False):
            _, session = _memory_session(ARCHIVE_BATCH if archived else orders + 1)
            started = time.perf_counter()
            for n in range(1, orders + 1):
                _place(session, n)
            rates[archived].append(orders / (time.perf_counter() - started))
    return statistics.median(rates[True]), statistics.median(rates[False])


def memory_one_day_rss(orders: int) -> list[tuple[int, float]]:
    """`memory_one_day` by RSS, in a fresh interpreter: arenas freed by an earlier
    measurement in this one would be reused and hide growth."""
    done = subprocess.run(
        [sys.executable, __file__, "--rss-day", str(orders)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [(int(n), float(grown)) for n, grown in json.loads(done.stdout)]


def memory_over_days(orders: int, days: int) -> list[float]:
    """Traced KiB at the end of each of ``days`` trading days of ``orders // days`` orders
    (yesterday pruned at `new_day`)."""
    broker, session = _memory_session()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    per_day, day_ends = max(orders // days, 1), []
    for _ in range(days):
        for n in range(1, per_day + 1):
            _place(session, n)
        gc.collect()
        day_ends.append((tracemalloc.get_traced_memory()[0] - base) / 1024)
        broker.advance(3600)
        broker.new_day()
    tracemalloc.stop()
    return day_ends


async def _wire_memory(orders: int, batch: int = 100) -> list[tuple[int, float]]:
    """One raw socket client (no client library: its own books would dwarf the gateway's)
    places ``orders`` market orders through the gateway in batches, each closed by a
    reqCurrentTime round trip; tracemalloc counts what ibguard's kit code holds (gateway
    connection, frame cache, session, broker) at 0, 1/4, 1/2 and all of the orders."""
    import ib_async

    client, chunks = _ib_async_writer()
    stock = ib_async.Stock("AAPL", "SMART", "USD")

    def place_bytes(first: int, count: int) -> bytes:
        chunks.clear()
        for order_id in range(first, first + count):
            side = "BUY" if order_id % 2 else "SELL"
            client.placeOrder(order_id, stock, ib_async.MarketOrder(side, 1))
        return b"".join(chunks)

    kit_only = [tracemalloc.Filter(True, "*kit/*")]

    def kit_bytes() -> float:
        gc.collect()
        snapshot = tracemalloc.take_snapshot().filter_traces(kit_only)
        return float(sum(stat.size for stat in snapshot.statistics("filename")))

    async with Gateway(_quiet_broker()) as gateway:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        frames = FrameReader(expect_hello=False)

        async def until(msg_id: str) -> None:
            await _read_until(reader, frames, msg_id)

        writer.write(encode_client_hello(VERSION, VERSION))
        await until(str(VERSION))  # the handshake reply: server version, time
        writer.write(encode(["71", "2", "1", ""]))
        await until("9")  # nextValidId
        marks = sorted({0, orders // 4, orders // 2, orders})
        tracemalloc.start()
        base, placed, out = kit_bytes(), 0, []
        try:
            for mark in marks:
                while placed < mark:
                    count = min(batch, mark - placed)
                    writer.write(place_bytes(placed + 1, count) + encode(["49", "1"]))
                    await until("49")
                    placed += count
                out.append((placed, kit_bytes() - base))
        finally:
            tracemalloc.stop()
            writer.close()
    return out


def _print_marks(title: str, marks: list[tuple[int, float]]) -> None:
    """Growth at each mark, bytes per order so far, and the slope after warm-up (from the
    first mark past 0 to the last): ~0 B/order is flat."""
    print(f"  {title}:")
    for count, grown in marks:
        per = f"{grown / count:8,.0f} B/order so far" if count else ""
        print(f"    after {count:>6,} orders: {grown / 1024:9,.0f} KiB  {per}")
    (n0, b0), (n1, b1) = marks[1], marks[-1]
    print(f"    slope from {n0:,} to {n1:,} orders: {(b1 - b0) / (n1 - n0):,.1f} B/order")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=1_000, help="orders per client round")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-orders", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=4, help="trading days the orders span")
    parser.add_argument("--memory-only", action="store_true", help="only the memory part")
    parser.add_argument("--rss-day", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_day:  # the child of `memory_one_day_rss`
        print(json.dumps(memory_one_day(args.rss_day, traced=False)))
        return
    if not args.memory_only:
        codec_and_clients(args)
    memory(args)


def codec_and_clients(args: argparse.Namespace) -> None:
    n = args.messages
    enc, dec = server_to_client(n)
    print(f"server -> client, {n:,} order messages at server version {VERSION}:")
    print(f"  gateway encode (sim message -> frame): {enc:12,.0f} msg/s")
    print(f"  ib_async decode (frame -> wrapper):    {dec:12,.0f} msg/s")
    print(f"  gateway / ib_async:                    {enc / dec:12.2f}x")
    gdec, ienc = client_to_server(n)
    print(f"client -> server, {n:,} placeOrder requests:")
    print(f"  gateway decode (frame -> PlaceOrder):  {gdec:12,.0f} msg/s")
    print(f"  ib_async encode (placeOrder -> frame): {ienc:12,.0f} msg/s")
    print(f"  gateway / ib_async:                    {gdec / ienc:12.2f}x")
    rates = clients_side_by_side(args.orders, args.repeats)
    single = rates[(1, True)][0]
    print(
        f"clients over loopback, {args.orders:,} market orders per round, {WINDOW} in flight per "
        f"client, median of {args.repeats} interleaved repetitions:"
    )
    for (clients, archived), (rate, p50, p99, frames) in rates.items():
        if archived:
            print(
                f"  {clients:>3} clients: {rate:8,.0f} orders/s  p50 {p50:7.1f} ms  "
                f"p99 {p99:7.1f} ms  {rate / single:6.0%} of 1 client  "
                f"{frames:5.1f} frames sent per order"
            )
    in_memory_single = rates[(1, False)][0]
    print("  the same with the day all in memory (no archive), side by side:")
    for clients in IN_MEMORY_COUNTS:
        rate = rates[(clients, False)][0]
        print(
            f"  {clients:>3} clients: {rate:8,.0f} orders/s  {rate / in_memory_single:6.0%} of 1 "
            f"client; archived / in memory {rates[(clients, True)][0] / rate:.2f}x"
        )
    raw = raw_clients_side_by_side(args.orders, args.repeats)
    print(
        "  the gateway alone: raw socket clients subscribed as ib_async is, decoding nothing "
        "(the rest of the 10-client cost above is ib_async's own decoding, on the same CPU):"
    )
    for clients, rate in raw.items():
        print(f"  {clients:>3} clients: {rate:8,.0f} orders/s  {rate / raw[1]:6.0%} of 1 client")


def memory(args: argparse.Namespace) -> None:
    orders = args.memory_orders
    print(
        f"memory, {orders:,} market orders in ONE trading day (every finished order and "
        "execution kept for reqCompletedOrders/reqExecutions):"
    )
    _print_marks(
        "traced (tracemalloc), broker + gateway encoders in process",
        memory_one_day(orders, traced=True),
    )
    _print_marks("RSS, the same run untraced (fresh interpreter)", memory_one_day_rss(orders))
    _print_marks(
        "traced kit code over the wire (gateway + broker, raw socket client)",
        asyncio.run(_wire_memory(orders)),
    )
    archived, in_memory = archive_cost_side_by_side(min(orders, 10_000), args.repeats)
    print(
        f"  cost of archiving, in process, {min(orders, 10_000):,} orders, median of "
        f"{args.repeats}: {archived:,.0f} orders/s archived vs {in_memory:,.0f} all in memory "
        f"({archived / in_memory:.2f}x)"
    )
    day_ends = memory_over_days(orders, args.days)
    per_day = orders // args.days
    print(f"  over {args.days} trading days of {per_day:,} orders (yesterday pruned at new_day):")
    for day, kib in enumerate(day_ends, start=1):
        print(f"    end of day {day} ({day * per_day:>6,} orders so far): {kib:9,.0f} KiB")
    print(f"  last day / first day: {day_ends[-1] / day_ends[0]:.2f}x")


if __name__ == "__main__":
    main()
