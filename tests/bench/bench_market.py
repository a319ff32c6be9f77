"""Benchmark: market data and history of the paper TWS, side by side with the raw decoder cost
of the client receiving them.

Run: `python tests/bench/bench_market.py [--steps N]`. Same process, same messages; prints
rates and ratios, asserts nothing (timings depend on the machine).
- quote ticks to 1 and to 20 ib_async clients subscribed to AAPL over loopback: broker time
  moves one second per step and every changed value is published; rates are tick messages
  per second summed over the clients: the server's side alone (publish + encode + frame), end
  to end (until every client has read and handled them), and ib_async's `Decoder` alone on the
  same frames (a no-op wrapper);
- history bars: one reqHistoricalData of 5 days of 1-minute bars (useRTH): bars per second
  built and encoded by the server, end to end through ib_async, and decoded alone.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from datetime import timezone

import ib_async
from ib_async.decoder import Decoder
from ibguard.kit.gateway.framing import encode
from ibguard.kit.gateway.registry import encode_message
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim.market_messages import HistoricalData
from ibguard.kit.sim.messages import Contract, Message, TwsMessage

VERSION = 178
AAPL = Contract(conId=265598, exchange="SMART")


class _NoOpWrapper:
    defaultTimezone = timezone.utc

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def _paper() -> SimBroker:
    return SimBroker(BrokerConfig(market_prices=True, rate_limit_per_second=10_000))


def _decode_rate(frames: list[tuple[str, ...]], units: int) -> float:
    decoder = Decoder(_NoOpWrapper(), VERSION)  # type: ignore[arg-type]
    start = time.perf_counter()
    for fields in frames:
        decoder.interpret(list(fields))
    return units / (time.perf_counter() - start)


def server_quotes(clients: int, steps: int) -> tuple[float, list[tuple[str, ...]]]:
    """Publish + encode + frame for `clients` in-process subscribers; the frames one got."""
    broker = _paper()
    frames: list[tuple[str, ...]] = []
    sessions = []
    for cid in range(1, clients + 1):

        def listen(message: Message, cid: int = cid) -> None:
            if isinstance(message, TwsMessage):
                fields = encode_message(message, VERSION)
                encode(fields)
                if cid == 1:
                    frames.append(fields)

        session = broker.connect(cid, listen)
        sessions.append(session)
    for s in sessions:
        broker.market_data.subscribe(s, 1, AAPL, snapshot=False)
    frames.clear()
    start = time.perf_counter()
    for _ in range(steps):
        broker.advance(1)
    elapsed = time.perf_counter() - start
    return len(frames) * clients / elapsed, frames


async def _end_to_end_quotes(clients: int, steps: int) -> float:
    broker = _paper()
    async with Gateway(broker) as gateway:
        ibs = []
        for cid in range(1, clients + 1):
            ib = ib_async.IB()
            await ib.connectAsync("127.0.0.1", gateway.port, clientId=cid, timeout=10)
            ib.reqMktData(ib_async.Contract(conId=265598, exchange="SMART"))
            ibs.append(ib)
        while broker.market_data.streams < clients:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        sent_before = gateway.stats().messages_out
        received_before = sum(ib.client._numMsgRecv for ib in ibs)
        start = time.perf_counter()
        for _ in range(steps):
            broker.advance(1)
            await asyncio.sleep(0)
        sent = gateway.stats().messages_out - sent_before
        while sum(ib.client._numMsgRecv for ib in ibs) - received_before < sent:
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - start
        for ib in ibs:
            ib.disconnect()
        return sent / elapsed


def history(days: int) -> tuple[float, float, float, int]:
    """Server-side bars/s, end-to-end bars/s, decoder bars/s, and the bar count."""
    broker = _paper()
    got: list[Message] = []
    session = broker.connect(1, got.append)
    start = time.perf_counter()
    broker.history.historical_data(
        session, 9, AAPL, end="", duration=f"{days} D", bar_size="1 min", what="TRADES",
        use_rth=True, format_date=1, keep_up_to_date=False,
    )  # fmt: skip
    broker.flush()
    (data,) = [m for m in got if isinstance(m, HistoricalData)]
    fields = encode_message(data, VERSION)
    encode(fields)
    server = len(data.bars) / (time.perf_counter() - start)

    async def through_ib_async() -> float:
        async with Gateway(_paper()) as gateway:
            ib = ib_async.IB()
            await ib.connectAsync("127.0.0.1", gateway.port, clientId=2, timeout=10)
            t0 = time.perf_counter()
            bars = await ib.reqHistoricalDataAsync(
                ib_async.Contract(conId=265598, exchange="SMART"), "", f"{days} D", "1 min",
                "TRADES", True,
            )  # fmt: skip
            rate = len(bars) / (time.perf_counter() - t0)
            ib.disconnect()
            return rate

    e2e = asyncio.run(through_ib_async())
    decode = _decode_rate([fields] * 5, 5 * len(data.bars))
    return server, e2e, decode, len(data.bars)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)
    print(f"quote ticks (AAPL, {args.steps} one-second steps, server version {VERSION}):")
    for clients in (1, 20):
        server, frames = server_quotes(clients, args.steps)
        decode = _decode_rate(frames, len(frames))
        e2e = asyncio.run(_end_to_end_quotes(clients, args.steps))
        print(f"  {clients:2d} client(s): {len(frames) / args.steps:.1f} ticks per step each")
        print(f"    server publish+encode:        {server:12,.0f} ticks/s")
        print(f"    end to end (ib_async clients): {e2e:11,.0f} ticks/s")
        print(f"    ib_async decoder alone:        {decode:11,.0f} ticks/s (one client)")
        print(f"    server / decoder:              {server / decode:11.2f}x")
    server, e2e, decode, n = history(5)
    print(f"history (5 D of 1 min bars, useRTH: {n} bars):")
    print(f"    server build+encode:           {server:11,.0f} bars/s")
    print(f"    end to end (ib_async):         {e2e:11,.0f} bars/s")
    print(f"    ib_async decoder alone:        {decode:11,.0f} bars/s")
    print(f"    server / decoder:              {server / decode:11.2f}x")


if __name__ == "__main__":
    main()
