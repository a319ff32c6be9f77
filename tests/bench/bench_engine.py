"""Benchmark: the engine core's per-event cost against a minimal dict book, side by side.

Run: `python tests/bench/bench_engine.py [--reps 7] [--batch 2000]`. Same process, same
event objects, sides interleaved per repetition; medians of the repetitions. Prints ratios
(absolute times depend on the machine; the ratios are the claim). Asserts nothing.
- fill: `Engine.handle(ExecutionReport)` for an order known by its permId, against a dict
  book doing the same bookkeeping (dedupe the execId, add quantity and notional, move the
  position, set the status), with 1,000 and 100,000 open orders;
- status: `Engine.handle(OrderStatusReport)` against the dict book setting the status;
- memory: bytes held per open order (tracemalloc), the engine's and the dict book's;
- flatten: engine time of a whole flatten-all (what-if, closing orders, each acknowledged,
  filled and executed, the summary) at 100, 1,000 and 3,000 positions; linear means the
  cost per position stays the same.
Logging is on at WARNING with no handler: nobody listens to the per-event INFO records.
Times are CPU time of this process (`time.process_time`), so a busy machine that takes the
CPU away between events does not count against either side.
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ibguard.engine import (
    Engine,
    EngineConfig,
    Instrument,
    OrderRequest,
    OrderType,
    PlaceOrder,
    RequestWhatIf,
    Side,
)
from ibguard.engine.events import (
    CompletedOrdersSnapshot,
    ConnectionRestored,
    Event,
    ExecutionReport,
    ExecutionsSnapshot,
    FlattenAll,
    ManagedAccounts,
    NextValidId,
    OpenOrderReport,
    OpenOrdersSnapshot,
    OrderStatusReport,
    SubmitOrder,
    Tick,
    WhatIfResult,
)

ACCOUNT = "DU1234567"
CLIENT_ID = 7
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
QUANTITY = Decimal(1_000_000)  # orders stay open through every fill of the run
PRICE = Decimal("187.25")
ONE = Decimal(1)
SYMBOLS = 50


def _quiet_logger() -> logging.Logger:
    logger = logging.getLogger("ibguard.bench.engine")
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    return logger


def _config() -> EngineConfig:
    return EngineConfig(account=ACCOUNT, client_id=CLIENT_ID, max_messages_per_second=10**9)


def _connected(engine: Engine) -> None:
    for event in (
        Tick(now=T0),
        NextValidId(order_id=1),
        ManagedAccounts(accounts=(ACCOUNT,)),
        ConnectionRestored(data_lost=True, client_id=CLIENT_ID),
        OpenOrdersSnapshot(),
        CompletedOrdersSnapshot(),
        ExecutionsSnapshot(),
    ):
        engine.handle(event)


def _instrument(number: int) -> Instrument:
    return Instrument(symbol=f"S{number:05d}", con_id=10_000 + number)


def _perm(number: int) -> int:
    return 1_000_000 + number


class DictBook:
    """The peer: the least a book can do per fill and per status, in plain dicts."""

    def __init__(self) -> None:
        self.orders: dict[int, dict[str, Any]] = {}
        self.exec_ids: set[str] = set()
        self.positions: dict[str, Decimal] = {}

    def open(self, perm_id: int, instrument: Instrument, side: Side, quantity: Decimal) -> None:
        self.orders[perm_id] = {
            "key": f"{instrument.symbol}:{instrument.sec_type}:{instrument.currency}",
            "sign": side.sign,
            "quantity": quantity,
            "filled": Decimal(0),
            "notional": Decimal(0),
            "status": "WORKING",
        }

    def fill(self, event: ExecutionReport) -> None:
        if event.exec_id in self.exec_ids:
            return
        self.exec_ids.add(event.exec_id)
        order = self.orders[event.perm_id]
        order["filled"] += event.shares
        order["notional"] += event.shares * event.price
        key = order["key"]
        self.positions[key] = self.positions.get(key, Decimal(0)) + event.shares * order["sign"]
        order["status"] = "FILLED" if order["filled"] >= order["quantity"] else "PARTIAL"

    def status(self, event: OrderStatusReport) -> None:
        self.orders[event.perm_id]["status"] = event.status


def _engine_with(open_orders: int) -> Engine:
    engine = Engine(_config(), logger=_quiet_logger())
    _connected(engine)
    for number in range(open_orders):
        instrument = _instrument(number % SYMBOLS)
        oms_id = f"o{number}"
        request = OrderRequest(
            instrument=instrument,
            side=Side.BUY,
            quantity=QUANTITY,
            order_type=OrderType.LIMIT,
            limit_price=PRICE,
        )
        (place,) = engine.handle(SubmitOrder(oms_id=oms_id, request=request))
        assert isinstance(place, PlaceOrder)
        engine.handle(_open_order(place, _perm(number)))
    return engine


def _dict_book_with(open_orders: int) -> DictBook:
    book = DictBook()
    for number in range(open_orders):
        book.open(_perm(number), _instrument(number % SYMBOLS), Side.BUY, QUANTITY)
    return book


def _open_order(place: PlaceOrder, perm_id: int, status: str = "Submitted") -> OpenOrderReport:
    request = place.request
    return OpenOrderReport(
        order_id=place.order_id,
        client_id=CLIENT_ID,
        perm_id=perm_id,
        order_ref=place.order_ref,
        instrument=request.instrument,
        side=request.side,
        quantity=request.quantity,
        order_type=request.order_type,
        limit_price=request.limit_price,
        tif=request.tif,
        account=ACCOUNT,
        status=status,
    )


def _touched(open_orders: int, batch: int) -> list[int]:
    """The order numbers a batch touches: spread evenly over the whole book."""
    step = max(1, open_orders // batch)
    return [(i * step) % open_orders for i in range(batch)]


def _fills_of(numbers: Sequence[int], rep: int) -> list[ExecutionReport]:
    """One fill of one share for each order number (execIds unique per `rep`)."""
    return [
        ExecutionReport(
            exec_id=f"0000e0d5.{rep:04x}{i:08x}.01.01",
            order_id=number + 1,
            client_id=CLIENT_ID,
            perm_id=_perm(number),
            order_ref=f"ibg:o{number}",
            instrument=_instrument(number % SYMBOLS),
            side=Side.BUY,
            shares=ONE,
            price=PRICE,
            time=T0,
            account=ACCOUNT,
        )
        for i, number in enumerate(numbers)
    ]


def _statuses_of(numbers: Sequence[int]) -> list[OrderStatusReport]:
    """One partly-filled Submitted status for each order number."""
    return [
        OrderStatusReport(
            order_id=number + 1,
            client_id=CLIENT_ID,
            perm_id=_perm(number),
            status="Submitted",
            filled=ONE,
            remaining=QUANTITY - ONE,
            avg_fill_price=PRICE,
        )
        for number in numbers
    ]


def _fills(open_orders: int, batch: int, rep: int) -> list[ExecutionReport]:
    return _fills_of(_touched(open_orders, batch), rep)


def _statuses(open_orders: int, batch: int) -> list[OrderStatusReport]:
    return _statuses_of(_touched(open_orders, batch))


def _timed(action: Callable[[Event], object], events: Sequence[Event]) -> float:
    gc.disable()
    try:
        start = time.process_time()
        for event in events:
            action(event)
        return (time.process_time() - start) / len(events)
    finally:
        gc.enable()


def per_event(open_orders: int, reps: int, batch: int) -> dict[str, float]:
    """Medians of µs per event: engine and dict book, fill and status, interleaved."""
    engine = _engine_with(open_orders)
    book = _dict_book_with(open_orders)
    statuses = _statuses(open_orders, batch)
    times: dict[str, list[float]] = {k: [] for k in ("fill", "dict_fill", "status", "dict_status")}
    for rep in range(reps):
        fills = _fills(open_orders, batch, rep)
        times["fill"].append(_timed(engine.handle, fills))
        times["dict_fill"].append(_timed(book.fill, fills))  # type: ignore[arg-type]
        times["status"].append(_timed(engine.handle, statuses))
        times["dict_status"].append(_timed(book.status, statuses))  # type: ignore[arg-type]
    return {key: statistics.median(values) * 1e6 for key, values in times.items()}


def bytes_per_order(open_orders: int) -> tuple[float, float]:
    def measure(build: Callable[[int], object]) -> float:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = build(open_orders)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del kept
        return (after - before) / open_orders

    return measure(_engine_with), measure(_dict_book_with)


def flatten_seconds(positions: int) -> float:
    """Engine time (only inside handle) of one flatten-all over `positions` positions."""
    engine = _engine_with(0)
    spent = 0.0

    def feed(event: Event) -> list[Any]:
        nonlocal spent
        start = time.process_time()
        out = engine.handle(event)
        spent += time.process_time() - start
        return out

    for number in range(positions):  # one filled buy per instrument
        request = OrderRequest(
            instrument=_instrument(number),
            side=Side.BUY,
            quantity=Decimal(100),
            order_type=OrderType.MARKET,
        )
        (place,) = engine.handle(SubmitOrder(oms_id=f"p{number}", request=request))
        assert isinstance(place, PlaceOrder)
        engine.handle(_open_order(place, _perm(number)))
        engine.handle(_execution(place, _perm(number), f"0000aaaa.{number:08x}.01.01"))
    spent = 0.0
    now = T0 + timedelta(minutes=5)
    feed(Tick(now=now))
    (what_if,) = feed(FlattenAll(reason="eod"))
    assert isinstance(what_if, RequestWhatIf)
    places = [c for c in feed(WhatIfResult(request_id=what_if.request_id, margin_ok=True))]
    assert len(places) == positions, len(places)
    for number, place in enumerate(places):
        assert isinstance(place, PlaceOrder)
        perm_id = _perm(positions + number)
        feed(_open_order(place, perm_id))
        feed(_status(place, perm_id))  # Filled before the execution, as over the wire
        feed(_execution(place, perm_id, f"0000bbbb.{number:08x}.01.01"))
    report = engine.last_flatten
    assert report is not None
    assert report.complete, report
    return spent


def _status(place: PlaceOrder, perm_id: int) -> OrderStatusReport:
    return OrderStatusReport(
        order_id=place.order_id,
        client_id=CLIENT_ID,
        perm_id=perm_id,
        status="Filled",
        filled=place.request.quantity,
        remaining=Decimal(0),
        avg_fill_price=PRICE,
    )


def _execution(place: PlaceOrder, perm_id: int, exec_id: str) -> ExecutionReport:
    request = place.request
    return ExecutionReport(
        exec_id=exec_id,
        order_id=place.order_id,
        client_id=CLIENT_ID,
        perm_id=perm_id,
        order_ref=place.order_ref,
        instrument=request.instrument,
        side=request.side,
        shares=request.quantity,
        price=PRICE,
        time=T0,
        account=ACCOUNT,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--batch", type=int, default=2_000)
    args = parser.parse_args(argv)
    print(f"per event, medians of {args.reps} interleaved repetitions of {args.batch:,} events:")
    print(f"  {'open orders':>12} {'':6} {'engine µs':>10} {'dict µs':>9} {'ratio':>7}")
    results = {}
    for open_orders in (1_000, 100_000):
        r = results[open_orders] = per_event(open_orders, args.reps, args.batch)
        for kind in ("fill", "status"):
            ratio = r[kind] / r[f"dict_{kind}"]
            print(
                f"  {open_orders:>12,} {kind:6} {r[kind]:10.2f} {r[f'dict_{kind}']:9.2f}"
                f" {ratio:6.2f}x"
            )
    for kind in ("fill", "status"):
        growth = results[100_000][kind] / results[1_000][kind]
        peer = results[100_000][f"dict_{kind}"] / results[1_000][f"dict_{kind}"]
        print(
            f"  {kind} at 100k / at 1k open orders: engine {growth:.2f}x, dict book {peer:.2f}x"
            " (what the memory hierarchy alone costs)"
        )
        own = [results[n][kind] - results[n][f"dict_{kind}"] for n in (1_000, 100_000)]
        print(
            f"  {kind} engine minus dict book: {own[0]:.2f} µs at 1k, {own[1]:.2f} µs at 100k"
            f" ({own[1] / own[0]:.2f}x: what the engine does beyond the minimal book)"
        )
    engine_bytes, dict_bytes = bytes_per_order(20_000)
    print("memory per open order (20,000 orders, tracemalloc):")
    print(
        f"  engine {engine_bytes:,.0f} B, dict book {dict_bytes:,.0f} B,"
        f" ratio {engine_bytes / dict_bytes:.2f}x"
    )
    print("flatten-all, engine time (median of 5):")
    per_position = {}
    for positions in (100, 1_000, 3_000):
        seconds = statistics.median(flatten_seconds(positions) for _ in range(5))
        per_position[positions] = seconds / positions
        micros = seconds / positions * 1e6
        print(f"  {positions:>6,} positions: {seconds:8.3f} s, {micros:7.1f} µs per position")
    print(f"  per position at 3,000 / at 100: {per_position[3_000] / per_position[100]:.2f}x")


if __name__ == "__main__":
    main()
