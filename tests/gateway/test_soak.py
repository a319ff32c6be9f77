"""Gateway soak: 10 unmodified ib_async clients x 1,000 market orders over loopback, then a
second round of 10 x 300 under tracemalloc.

Nothing may be lost: every order is filled exactly once, counted at the broker (one execution
per order, every order Filled) and at each client (one Trade per order, Filled, one Fill).
Memory: each round trades against a fresh SimBroker behind the same gateway (the broker's
ledger and the clients keep every order by design); tracemalloc then measures what the traced
round left behind once its clients, connections and broker are gone: gateway code must hold
(almost) nothing, so per-order or per-frame leaks show. The message rate is printed (`-s`) and
written as JSON to $IBGUARD_SOAK_JSON when set; nothing is asserted on time.
`IBGUARD_SOAK_ORDERS` / `IBGUARD_SOAK_TRACED_ORDERS` scale the rounds (orders per client).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim import BrokerConfig, SimBroker

ib_async = pytest.importorskip("ib_async")

CLIENTS = 10
ORDERS = int(os.environ.get("IBGUARD_SOAK_ORDERS", "1000"))
# tracemalloc slows the traced round about fivefold; 300 orders per client keep the test under
# a minute on a shared machine and would still show a per-order leak as ~3,000 x its size.
TRACED_ORDERS = int(os.environ.get("IBGUARD_SOAK_TRACED_ORDERS", "300"))
# Where to record the figures as JSON (tests/bench/results/gateway_soak.json holds a run).
RESULTS = os.environ.get("IBGUARD_SOAK_JSON", "")
# What gateway code may still hold after a round beyond the first (logging caches, interned
# ids): a leak per order or per frame would be megabytes at this size.
GATEWAY_GROWTH_LIMIT = 256 * 1024


@dataclass(frozen=True)
class RoundResult:
    orders: int
    seconds: float
    frames_in: int
    frames_out: int

    @property
    def frames_per_second(self) -> float:
        return (self.frames_in + self.frames_out) / self.seconds


async def _client_round(port: int, client_id: int, orders: int, tag: str) -> list[Any]:
    ib = ib_async.IB()
    await ib.connectAsync("127.0.0.1", port, clientId=client_id, timeout=10)
    ib.client.MaxRequests = 0  # the client's own 45/s pacing would make this a sleep test
    stock = ib_async.Stock("AAPL", "SMART", "USD")
    trades = []
    for n in range(orders):
        action = "BUY" if n % 2 == 0 else "SELL"
        order = ib_async.MarketOrder(action, 1, orderRef=f"{tag}:{client_id}:{n}")
        trades.append(ib.placeOrder(stock, order))
    while not all(t.isDone() and len(t.fills) == 1 for t in trades):
        await asyncio.sleep(0.01)
    summary = [(t.order.orderRef, t.orderStatus.status, len(t.fills)) for t in trades]
    ib.disconnect()
    return summary


def fresh_broker() -> SimBroker:
    return SimBroker(BrokerConfig(rate_limit_per_second=10**9, farm_status_messages=False))


async def soak_round(gateway: Gateway, clients: int, orders: int, tag: str) -> RoundResult:
    """One round against the gateway's current broker; checks nothing was lost."""
    broker = gateway.broker
    before = gateway.stats()
    started = time.perf_counter()
    results = await asyncio.gather(
        *(_client_round(gateway.port, cid, orders, tag) for cid in range(1, clients + 1))
    )
    seconds = time.perf_counter() - started
    for _ in range(100):  # let the server see every client's close
        if not gateway.connections():
            break
        await asyncio.sleep(0.01)
    after = gateway.stats()
    for cid, summary in enumerate(results, start=1):
        assert len(summary) == orders, f"clientId {cid} lost trades"
        assert {(status, fills) for _, status, fills in summary} == {("Filled", 1)}
        assert len({ref for ref, _, _ in summary}) == orders
    placed = broker.requests.placed()
    assert len(placed) == clients * orders
    assert all(r.accepted for r in placed)
    assert len(broker.orders()) == clients * orders
    assert {o.status for o in broker.orders()} == {"Filled"}
    perm_ids = [b.execution.permId for b in broker.ledger.executions]
    assert sorted(perm_ids) == sorted(o.perm_id for o in broker.orders())  # one fill each
    assert broker.position("AAPL") == 0  # buys and sells alternate
    return RoundResult(
        orders=clients * orders,
        seconds=seconds,
        frames_in=after.messages_in - before.messages_in,
        frames_out=after.messages_out - before.messages_out,
    )


def _gateway_bytes(snapshot: tracemalloc.Snapshot) -> int:
    mine = snapshot.filter_traces([tracemalloc.Filter(True, "*kit/gateway/*")])
    return sum(stat.size for stat in mine.statistics("filename"))


def test_soak_ten_clients_thousand_orders_each_nothing_lost_no_growth() -> None:
    async def scenario() -> tuple[RoundResult, RoundResult, int, int]:
        # Each round trades against a fresh SimBroker behind the same gateway: the broker's
        # ledger keeps every order by design, the gateway must keep nothing per order.
        async with Gateway(fresh_broker()) as gateway:
            first = await soak_round(gateway, CLIENTS, ORDERS, "r1")
            gateway.broker = fresh_broker()
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.take_snapshot()
            second = await soak_round(gateway, CLIENTS, TRACED_ORDERS, "r2")
            gateway.broker = fresh_broker()
            gc.collect()
            end = tracemalloc.take_snapshot()
            tracemalloc.stop()
        total_growth = sum(s.size_diff for s in end.compare_to(base, "filename"))
        gateway_growth = _gateway_bytes(end) - _gateway_bytes(base)
        return first, second, gateway_growth, total_growth

    first, second, gateway_growth, total_growth = asyncio.run(asyncio.wait_for(scenario(), 600))
    assert gateway_growth < GATEWAY_GROWTH_LIMIT

    report = {
        "clients": CLIENTS,
        "orders_per_client": ORDERS,
        "traced_orders_per_client": TRACED_ORDERS,
        "round1": asdict(first) | {"frames_per_second": round(first.frames_per_second)},
        "round2_traced": asdict(second) | {"frames_per_second": round(second.frames_per_second)},
        "gateway_bytes_left_after_round2": gateway_growth,
        "total_bytes_left_after_round2": total_growth,
    }
    if RESULTS:
        Path(RESULTS).write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\ngateway soak: {CLIENTS} clients x {ORDERS} orders: "
        f"{first.orders / first.seconds:,.0f} orders/s, {first.frames_per_second:,.0f} frames/s "
        f"({first.frames_in + first.frames_out:,} frames in {first.seconds:.1f} s); then "
        f"{CLIENTS} x {TRACED_ORDERS} traced: {second.frames_per_second:,.0f} frames/s, "
        "left behind: "
        f"gateway code {gateway_growth:,} B, everything {total_growth:,} B"
    )
