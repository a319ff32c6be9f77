"""Benchmark: why the engine's per-event cost grows from 1k to 100k open orders.

Run: `python tests/bench/bench_engine_growth.py [--reps 7]`. Same books and events as
`bench_engine.py` (its helpers, unchanged), at 1k, 10k and 100k open orders, in three access
patterns, engine and dict book side by side (interleaved, CPU time, medians):
- bench: bench_engine's own pattern (at 1k: 1,000 orders touched twice each; at 100k: 2,000
  orders spread over the book, 50 apart);
- spread: the same number of orders at every size (1,000, touched twice), spread evenly over
  the book: only the size of the book changes, and where in memory its orders live;
- first: the same 1,000 orders at every size (the first ones made, touched twice): their
  records sit together in memory at every size, as at 1k;
- random: 1,000 orders drawn at random from the whole book (touched twice): fills across a
  book of resting orders, the realistic shape for fills;
- recent: the 1,000 orders placed last (touched twice): the acknowledgements that follow
  placements, most of the orderStatus traffic (the rest follows the fills).
Then the engine's Python function calls per event at each size (cProfile): equal counts
mean the engine does the same work per event whatever the size of the book, so any growth
in time is the memory hierarchy. Asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import statistics
from collections.abc import Callable, Sequence

from bench_engine import (
    _dict_book_with,
    _engine_with,
    _fills_of,
    _statuses_of,
    _timed,
    _touched,
)
from ibguard.engine.events import Event

SIZES = (1_000, 10_000, 100_000)
TOUCHED = 1_000  # orders touched per batch in the equalised patterns


def _numbers(pattern: str, open_orders: int, batch: int) -> list[int]:
    if pattern == "bench":
        return _touched(open_orders, batch)
    if pattern == "random":
        chosen = random.Random(open_orders).sample(range(open_orders), TOUCHED)
        return [chosen[i % TOUCHED] for i in range(batch)]
    if pattern == "recent":
        return [open_orders - TOUCHED + i % TOUCHED for i in range(batch)]
    step = open_orders // TOUCHED if pattern == "spread" else 1
    return [(i % TOUCHED) * step for i in range(batch)]


def _calls_per_event(action: Callable[[Event], object], events: Sequence[Event]) -> float:
    profile = cProfile.Profile()
    profile.enable()
    for event in events:
        action(event)
    profile.disable()
    stats = pstats.Stats(profile)
    return stats.total_calls / len(events)  # type: ignore[attr-defined,no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--batch", type=int, default=2_000)
    args = parser.parse_args()
    patterns = ("bench", "spread", "first", "random", "recent")
    us: dict[tuple[str, int, str], float] = {}
    calls: dict[tuple[int, str], float] = {}
    for size in SIZES:
        engine = _engine_with(size)
        book = _dict_book_with(size)
        times: dict[tuple[str, str], list[float]] = {}
        for rep in range(args.reps):
            for pattern in patterns:  # interleaved: a busy moment hits every side alike
                numbers = _numbers(pattern, size, args.batch)
                fills = _fills_of(numbers, rep * len(patterns) + patterns.index(pattern))
                statuses = _statuses_of(numbers)
                for side, action, events in (
                    ("engine fill", engine.handle, fills),
                    ("dict fill", book.fill, fills),
                    ("engine status", engine.handle, statuses),
                    ("dict status", book.status, statuses),
                ):
                    spent = _timed(action, events)  # type: ignore[arg-type]
                    times.setdefault((pattern, side), []).append(spent)
        for (pattern, side), values in times.items():
            us[(pattern, size, side)] = statistics.median(values) * 1e6
        numbers = _numbers("bench", size, args.batch)
        gc.collect()
        calls[(size, "fill")] = _calls_per_event(engine.handle, _fills_of(numbers, 9_999))
        calls[(size, "status")] = _calls_per_event(engine.handle, _statuses_of(numbers))
        del engine, book
        gc.collect()

    print(f"µs per event (medians of {args.reps}); growth = at N / at 1k:")
    for pattern in patterns:
        print(f"  pattern {pattern}:")
        for kind in ("fill", "status"):
            cells = []
            for size in SIZES:
                engine_us = us[(pattern, size, f"engine {kind}")]
                dict_us = us[(pattern, size, f"dict {kind}")]
                engine_growth = engine_us / us[(pattern, SIZES[0], f"engine {kind}")]
                dict_growth = dict_us / us[(pattern, SIZES[0], f"dict {kind}")]
                cells.append(
                    f"{size // 1000:>3}k {engine_us:5.2f}/{dict_us:5.2f}"
                    f" ({engine_growth:4.2f}x/{dict_growth:4.2f}x)"
                )
            print(f"    {kind:6} engine/dict: " + "  ".join(cells))
    print("engine Python calls per event (cProfile, bench pattern):")
    for kind in ("fill", "status"):
        print(f"  {kind:6} " + "  ".join(f"{s // 1000}k {calls[(s, kind)]:.2f}" for s in SIZES))


if __name__ == "__main__":
    main()
