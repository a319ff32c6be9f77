"""Benchmark: the gateway codec against the raw ib_async decoder/encoder, side by side; the
gateway's orders per second and p99 latency at 1, 10 and 50 clients; memory over 20k orders.

Run: `python tests/bench/bench_gateway.py [--messages N] [--orders N] [--memory-orders N]`.
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
round's orders are filled; orders per second of the whole round and the p50/p99 latency from
placeOrder to Filled; sides interleaved (1, 10, 50, 1, 10, 50, ...) and the median of the
repetitions reported, with each N's ratio to one client.

Memory: one session places market orders in process (the broker and the gateway's encoders,
no sockets); tracemalloc's traced size at each quarter of a run in one trading day (bytes per
order: the day's finished orders are kept), then at the end of each of several trading days
carrying the same orders (yesterday pruned at `new_day`: flat).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import struct
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from ibguard.kit.gateway.framing import Frame, FrameReader, encode
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


def client_to_server(n: int) -> tuple[float, float]:
    import ib_async
    from ib_async.client import Client

    chunks: list[bytes] = []
    client: Any = Client(SimpleNamespace())  # type: ignore[arg-type]
    client.conn = SimpleNamespace(sendMsg=chunks.append)
    client.connState = Client.CONNECTED
    client._serverVersion = VERSION
    client.MaxRequests = 0
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
CLIENT_COUNTS = (1, 10, 50)


def _quiet_broker() -> SimBroker:
    return SimBroker(BrokerConfig(rate_limit_per_second=10**9, farm_status_messages=False))


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


async def _round(clients: int, total_orders: int) -> tuple[float, float, float]:
    """orders/s, p50 and p99 latency (ms) of one round of ``total_orders``."""
    import ib_async

    per_client = max(total_orders // clients, 1)
    async with Gateway(_quiet_broker()) as gateway:
        ibs = []
        try:
            for cid in range(1, clients + 1):
                ib = ib_async.IB()
                await ib.connectAsync("127.0.0.1", gateway.port, clientId=cid, timeout=20)
                ib.client.MaxRequests = 0
                ibs.append(ib)
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(_client_orders(ib, per_client, latencies) for ib in ibs))
            seconds = time.perf_counter() - started
        finally:
            for ib in ibs:
                ib.disconnect()
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return per_client * clients / seconds, statistics.median(ms), p99


def clients_side_by_side(total_orders: int, repeats: int) -> dict[int, tuple[float, float, float]]:
    runs: dict[int, list[tuple[float, float, float]]] = {n: [] for n in CLIENT_COUNTS}
    for _ in range(repeats):
        for n in CLIENT_COUNTS:  # interleaved, so load on the machine hits every side
            runs[n].append(asyncio.run(_round(n, total_orders)))
    return {
        n: (
            statistics.median(r[0] for r in rs),
            statistics.median(r[1] for r in rs),
            statistics.median(r[2] for r in rs),
        )
        for n, rs in runs.items()
    }


def _memory_session() -> tuple[SimBroker, Any]:
    from ibguard.kit.gateway.framing import encode as frame

    broker = _quiet_broker()

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


def memory_per_order(orders: int, days: int) -> tuple[list[tuple[int, float]], list[float]]:
    """Traced KiB after each quarter of ``orders`` placed in one trading day, and at the end
    of each of ``days`` trading days carrying ``orders // days`` orders each (the day's
    finished orders are what reqCompletedOrders and reqExecutions must answer)."""
    import gc

    broker, session = _memory_session()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    marks: list[tuple[int, float]] = []
    quarter = max(orders // 4, 1)
    for n in range(1, orders + 1):
        _place(session, n)
        if n % quarter == 0:
            gc.collect()
            marks.append((n, (tracemalloc.get_traced_memory()[0] - base) / 1024))
    tracemalloc.stop()

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
    return marks, day_ends


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=1_000, help="orders per client round")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-orders", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=4, help="trading days the orders span")
    args = parser.parse_args(argv)
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
    single = rates[1][0]
    print(
        f"clients over loopback, {args.orders:,} market orders per round, {WINDOW} in flight per "
        f"client, median of {args.repeats} interleaved repetitions:"
    )
    for clients, (rate, p50, p99) in rates.items():
        print(
            f"  {clients:>3} clients: {rate:8,.0f} orders/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms"
            f"  {rate / single:6.0%} of 1 client"
        )
    marks, day_ends = memory_per_order(args.memory_orders, args.days)
    print(f"memory, {args.memory_orders:,} orders (tracemalloc, broker + gateway encoders, KiB):")
    print("  in one trading day (every finished order kept for reqCompletedOrders/Executions):")
    for count, kib in marks:
        print(f"    after {count:>6,} orders: {kib:9,.0f} KiB  {kib * 1024 / count:7,.0f} B/order")
    per_day = args.memory_orders // args.days
    print(f"  over {args.days} trading days of {per_day:,} orders (yesterday pruned at new_day):")
    for day, kib in enumerate(day_ends, start=1):
        print(f"    end of day {day} ({day * per_day:>6,} orders so far): {kib:9,.0f} KiB")
    print(f"  last day / first day: {day_ends[-1] / day_ends[0]:.2f}x")


if __name__ == "__main__":
    main()
