"""Benchmark: cache misses per event, engine and dict book, at 1k and 100k open orders.

Run: `python tests/bench/bench_engine_cache.py [--sizes 1000 100000]` (needs valgrind; takes
minutes). Counts are deterministic, unlike times on a shared machine, so they show where the
growth from 1k to 100k comes from: the same instructions per event at every size, and more
data fetched from farther away.

Same books and events as `bench_engine.py` (its helpers, unchanged): batches of 2,000 fills
or statuses spread evenly over the book (at 1k each order is touched twice per batch, at
100k orders 50 apart), each batch built just before it is handled, the GC off. One process
per side, size and kind builds its book uninstrumented, handles one batch to warm the
caches, then three measured batches inside `functools.reduce`, the only code callgrind
counts. Callgrind simulates this machine's caches per core: L1d 48 KiB and, as the last
level, the 2 MiB L2 (the level after it is far slower). Per event: instructions (Ir), L1d
misses (D1) and L2 misses (LL), reads and writes together. Asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_engine import _dict_book_with, _engine_with, _fills, _statuses

BATCH = 2_000
BATCHES = 3  # measured batches per kind, after one batch that warms the caches
CACHES = ("--I1=32768,8,64", "--D1=49152,12,64", "--LL=2097152,16,64")
# callgrind collects only inside this C function: the measured batches run through it
MEASURED = "functools_reduce"
EVENTS = ("Ir", "Dr", "Dw", "D1mr", "D1mw", "DLmr", "DLmw")


def child(side: str, size: int, kind: str) -> None:
    """Build one book, warm it with one batch, then handle the measured batches (each
    built just before, as bench_engine does) inside functools.reduce; the GC is off, as
    while bench_engine times."""
    if side == "engine":
        engine = _engine_with(size)
        on_fill = on_status = engine.handle
    else:
        book = _dict_book_with(size)
        on_fill, on_status = book.fill, book.status  # type: ignore[assignment]
    handle = on_fill if kind == "fill" else on_status
    statuses = _statuses(size, BATCH)
    gc.collect()
    gc.disable()
    # valgrind runs the build uninstrumented (10x faster); the warm batch fills the caches
    subprocess.run(
        ["callgrind_control", "--instr=on", str(os.getpid())], check=True, capture_output=True
    )
    for rep in range(1 + BATCHES):
        events = _fills(size, BATCH, rep) if kind == "fill" else statuses
        if rep == 0:
            for event in events:
                handle(event)
        else:
            functools.reduce(lambda _, event: handle(event), events, None)


def per_event(side: str, size: int, kind: str) -> dict[str, float]:
    """Counts per event in the measured batches (cache misses: reads + writes)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--cache-sim=yes",
                *CACHES,
                "--instr-atstart=no",
                "--collect-atstart=no",
                f"--toggle-collect={MEASURED}",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--child",
                side,
                str(size),
                kind,
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        text = out.read_text()
    names = re.search(r"^events: (.*)$", text, re.M)
    totals = re.search(r"^totals: (.*)$", text, re.M) or re.search(r"^summary: (.*)$", text, re.M)
    if names is None or totals is None:
        raise SystemExit(f"callgrind wrote no totals in {out}")
    values = [int(value) for value in totals.group(1).split()]
    kinds = names.group(1).split()
    values += [0] * (len(kinds) - len(values))  # callgrind leaves out trailing zero counts
    counts = dict(zip(kinds, values, strict=True))
    events = BATCHES * BATCH
    per = {name: counts.get(name, 0) / events for name in EVENTS}
    return {
        "Ir": per["Ir"],
        "D1": per["D1mr"] + per["D1mw"],
        "LL": per["DLmr"] + per["DLmw"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--child", nargs=3, metavar=("SIDE", "SIZE", "KIND"))
    args = parser.parse_args()
    if args.child:
        side, size, kind = args.child
        child(side, int(size), kind)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("bench_engine_cache: valgrind not found; install it to count misses")
    results = {
        (side, size): {kind: per_event(side, size, kind) for kind in ("fill", "status")}
        for size in args.sizes
        for side in ("engine", "dict")
    }
    print("per event (cachegrind; D1 = L1d misses, LL = L2 misses; reads + writes):")
    print(f"  {'open orders':>12} {'':6} {'side':6} {'Ir':>7} {'D1':>6} {'LL':>6}")
    for size in args.sizes:
        for kind in ("fill", "status"):
            for side in ("engine", "dict"):
                c = results[(side, size)][kind]
                print(
                    f"  {size:>12,} {kind:6} {side:6} {c['Ir']:7.0f} {c['D1']:6.2f} {c['LL']:6.2f}"
                )
    first, last = args.sizes[0], args.sizes[-1]
    for kind in ("fill", "status"):
        for side in ("engine", "dict"):
            a, b = results[(side, first)][kind], results[(side, last)][kind]
            print(
                f"  {kind:6} {side:6} at {last:,} - at {first:,}:"
                f" Ir {b['Ir'] - a['Ir']:+.0f}, D1 {b['D1'] - a['D1']:+.2f},"
                f" LL {b['LL'] - a['LL']:+.2f} per event"
            )


if __name__ == "__main__":
    main()
