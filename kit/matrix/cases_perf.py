"""PERF cases: cost per event as the book grows, peak memory, and fill throughput.

Figures are reported with the result (`Observed.figures`). PERF-01 times the process's CPU
(`time.process_time`: every thread of the engine, its client and the kit, but not the other
processes of a busy CI box) in chunks and judges the median chunk, and only ratios with a
wide margin, so a loaded machine does not fail it; virtual time still drives everything the
engine sees. PERF-02 also says where the
time goes (a profiled second burst, split by code: the engine and its subject, the TWS
client library, the kit's simulated broker and gateway, Python's runtime) and, when the
client library is the cost, what to do about it.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import sysconfig
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.stage import CLIENT_ID, CaseFailure, Stage, StageMaker

__all__: list[str] = []

SMALL, LARGE = 1_000, 10_000
EVENTS = 400  # timed broker events per book size
CHUNKS = 8  # ... timed in this many chunks
GROWTH_LIMIT = 3.0  # per-event cost at 10k may be at most this multiple of the 1k cost
MEMORY_LIMIT_MB = 500
BURST = 1_000
PROFILED_BURST = 200  # fills in the profiled burst that attributes the time
PROFILED_BUDGET_S = 2.0  # ... or fewer, when they take longer than this
MIN_FILL_RATE = 100  # fills per second the engine must keep up with
CLIENT_LIBRARIES = ("ib_async", "ib_insync", "ibapi", "eventkit")
_KIT = Path(__file__).resolve().parent.parent
_STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
CLIENT_LIBRARY_REMEDY = (
    "the TWS client library is the cost: ib_async/ib_insync format the whole Trade (every "
    "fill so far) on each orderStatus, so the cost grows with the fills; keep your fills "
    "from execDetailsEvent, trim trade.fills once booked, or use the official ibapi client "
    "(docs/ib-async-subject.md, Traps)"
)


def _book(make: StageMaker, size: int) -> Stage:
    stage = make().start()  # TWS's 50 messages/s: the engine's throttle paces the book in
    for number in range(size):
        stage.submit(f"b{number}", quantity=10)
    stage.advance(size / 40 + 10, step=1)  # let any message throttle drain
    return stage


def _per_event_seconds(stage: Stage, size: int) -> tuple[float, float]:
    """CPU seconds per fill (the median of `CHUNKS` chunks: one chunk caught by a scheduler
    hiccup or a collection does not decide) and for the reconcile of the whole book."""
    step = max(size // EVENTS, 1)
    perms = [o.perm_id for o in stage.broker.orders()][::step][:EVENTS]
    per_chunk = max(len(perms) // CHUNKS, 1)
    chunk_costs = []
    for first in range(0, len(perms), per_chunk):
        chunk = perms[first : first + per_chunk]
        started = time.process_time()
        for perm in chunk:
            stage.broker.fill(perm, Decimal(1), Decimal("99.00"))
        chunk_costs.append((time.process_time() - started) / len(chunk))
    started = time.process_time()
    stage.broker.drop(CLIENT_ID)
    stage.advance(1)  # reconnect: reconcile over the whole book
    reconcile = time.process_time() - started
    return statistics.median(chunk_costs), reconcile


def _peak_rss_bytes() -> int | None:
    """Peak resident memory of this process (it includes the kit and the broker: an upper
    bound of the engine's), None where the platform does not say."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


@implements("PERF-01")
def ten_thousand_open_orders(make: StageMaker) -> None:
    small = _book(make, SMALL)
    small_event, small_reconcile = _per_event_seconds(small, SMALL)
    small.close_now()
    large = _book(make, LARGE)
    large_event, large_reconcile = _per_event_seconds(large, LARGE)
    peak = _peak_rss_bytes()
    working = sum(1 for o in large.broker.orders() if o.is_live)
    large.figures.update(
        {
            "per_event_us_1k": f"{small_event * 1e6:.1f}",
            "per_event_us_10k": f"{large_event * 1e6:.1f}",
            "reconcile_ms_1k": f"{small_reconcile * 1e3:.1f}",
            "reconcile_ms_10k": f"{large_reconcile * 1e3:.1f}",
            "peak_rss_mb": "n/a" if peak is None else f"{peak / 2**20:.1f}",
        }
    )
    large.expect(working == LARGE, f"only {working} of {LARGE} orders working at the broker")
    large.expect(
        large_event <= small_event * GROWTH_LIMIT + 50e-6,
        f"per-event cost {large_event * 1e6:.0f} us at 10k orders vs {small_event * 1e6:.0f} us "
        "at 1k: it grows with the book (O(n) per event)",
    )
    large.expect(
        large_reconcile <= small_reconcile * 10 * GROWTH_LIMIT + 0.05,
        f"reconcile of 10k orders took {large_reconcile:.2f} s vs {small_reconcile:.3f} s for "
        "1k: worse than linear",
    )
    large.expect(
        peak is None or peak < MEMORY_LIMIT_MB * 2**20,
        f"peak memory {(peak or 0) / 2**20:.0f} MB with 10k open orders "
        f"(limit {MEMORY_LIMIT_MB} MB for the whole process)",
    )


def _owner(filename: str) -> str:
    """Whose code a profiled function is: engine, client library, kit or python (the
    standard library and built-ins)."""
    if any(f"{name}/" in filename.replace("\\", "/") for name in CLIENT_LIBRARIES):
        return "client library"
    if filename.startswith("<") or filename == "~":
        return "python"
    path = Path(filename).resolve()
    if _KIT in path.parents:
        return "kit"
    if _STDLIB in path.parents and "site-packages" not in path.parts:
        return "python"
    return "engine"


OWNERS: Final = ("engine", "client library", "kit")
Function = tuple[str, int, str]


def _time_split(run: Callable[[], object]) -> dict[str, float]:
    """Share of the time `run` spends in each owner's code (profiled, so slower). Time in
    Python's own code (logging, a dataclass repr, the event loop) is charged to whoever
    called it, in proportion to the time each caller spent in it."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        run()
    finally:
        profiler.disable()
    table: dict[Function, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]  # documented, untyped
    shares: dict[Function, dict[str, float]] = {}

    def share(function: Function, seen: frozenset[Function]) -> dict[str, float]:
        owner = _owner(function[0])
        if owner != "python":
            return {owner: 1.0}
        if function in shares:
            return shares[function]
        callers = table.get(function, (0, 0, 0.0, 0.0, {}))[4]
        weights = {c: entry[3] for c, entry in callers.items() if c not in seen}
        total = sum(weights.values())
        result: dict[str, float] = defaultdict(float)
        for caller, weight in weights.items():
            for name, part in share(caller, seen | {function}).items():
                result[name] += part * (weight / total if total else 1 / len(weights))
        shares[function] = result or {"kit": 1.0}  # no caller left: the kit's loop
        return shares[function]

    spent: dict[str, float] = defaultdict(float)
    for function, (_, _, own, _, _) in table.items():
        for name, part in share(function, frozenset()).items():
            spent[name] += own * part
    whole = sum(spent.values()) or 1.0
    return {owner: spent[owner] / whole for owner in OWNERS}


def _burst(stage: Stage, perm: int, fills: int, budget_s: float) -> tuple[int, float]:
    """Fill `perm` one share at a time; stop early once `budget_s` is spent (the verdict
    is known by then). Returns (fills made, seconds)."""
    started = time.perf_counter()
    for done in range(1, fills + 1):
        stage.broker.fill(perm, Decimal(1), Decimal("99.00"))
        stage.broker.advance(Decimal("0.001"))  # 1000 fills per second of broker time
        elapsed = time.perf_counter() - started
        if elapsed > budget_s:
            return done, elapsed
    return fills, time.perf_counter() - started


@implements("PERF-02")
def fill_burst(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", quantity=BURST)
    perm = stage.broker_order("o1").perm_id
    # past BURST / MIN_FILL_RATE seconds the rate is below the minimum: stop there
    done, elapsed = _burst(stage, perm, BURST, BURST / MIN_FILL_RATE)
    stage.tick()
    rate = done / elapsed if elapsed else float("inf")
    stage.figures["fills_per_second"] = f"{rate:.0f}"
    if done == BURST:
        facts = stage.expect_status("o1", "FILLED", why=f"{BURST} fills of 1 share completed it")
        stage.expect(facts.filled == BURST, f"o1 counted {facts.filled} of {BURST}: missed fills")
    stage.submit("o2", quantity=PROFILED_BURST)
    profiled = stage.broker_order("o2").perm_id
    split = _time_split(lambda: _burst(stage, profiled, PROFILED_BURST, PROFILED_BUDGET_S))
    stage.figures["time_split"] = ", ".join(f"{k} {v:.0%}" for k, v in split.items())
    if rate < MIN_FILL_RATE:
        # the kit's share (simulated broker, gateway, the loop) is the same for every engine:
        # the remedy is about the subject's side, the engine or its client library
        library_bound = split["client library"] > split["engine"]
        remedy = f"; {CLIENT_LIBRARY_REMEDY}" if library_bound else ""
        raise CaseFailure(
            f"the engine kept up with {rate:.0f} fills/s, below {MIN_FILL_RATE}/s; time went "
            f"to: {stage.figures['time_split']}{remedy}"
        )
    stage.expect_code("FILL_RATE")
