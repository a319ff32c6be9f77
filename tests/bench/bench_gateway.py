"""Benchmark: the gateway codec against the raw ib_async decoder/encoder, side by side.

Run: `python tests/bench/bench_gateway.py [--messages N]`. Two directions, same process, same
messages; prints messages per second and the ratio. Asserts nothing (timings depend on the
machine).
- server -> client: SimBroker messages of a filled order (openOrder, orderStatus, execDetails,
  commissionReport) encoded by the gateway (`encode_message` + `framing.encode`), and the
  same bytes framed and interpreted by ib_async's `Decoder` (a no-op wrapper);
- client -> server: placeOrder bytes written by ib_async's `Client.placeOrder`, and the same
  bytes read back by the gateway (`FrameReader` + `decode_request`).
Framing on the ib_async side is a plain offset loop (its client's own buffer slicing is
quadratic on big buffers, which would flatter the gateway).
"""

from __future__ import annotations

import argparse
import struct
import time
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from ibguard.kit.gateway.framing import Frame, FrameReader, encode
from ibguard.kit.gateway.inbound import PlaceOrder, decode_request
from ibguard.kit.gateway.registry import encode_message
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=20_000)
    n = parser.parse_args(argv).messages
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


if __name__ == "__main__":
    main()
