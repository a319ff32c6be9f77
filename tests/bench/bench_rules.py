"""Benchmark: the rule runner against import-linter (graph build and full lint), on this repo.

Run: `python tests/bench/bench_rules.py`. Prints times and ratios; asserts nothing (timings
depend on the machine). The comparison with Fixit is `bench_rules_fixit.py`.
"""

from __future__ import annotations

import time
from pathlib import Path

from ibguard.rules.runner import check_project
from ibguard.rules.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    settings = load_settings(REPO / "pyproject.toml")
    cold = min(_timed(lambda: check_project(settings, use_cache=False, jobs=1)) for _ in range(3))
    check_project(settings)
    warm = min(_timed(lambda: check_project(settings)) for _ in range(3))

    import grimp

    roots = ("ibguard.engine", "ibguard.kit", "ibguard.rules", "ibguard.contracts")
    graph = min(_timed(lambda: grimp.build_graph(*roots, cache_dir=None)) for _ in range(3))

    from ibguard.contracts.linting import lint

    contracts = min(_timed(lambda: lint(REPO / "pyproject.toml", REPO)) for _ in range(3))
    print(f"rules, cold (no cache, 1 process): {cold * 1000:8.1f} ms")
    print(f"rules, warm (content-hash cache):  {warm * 1000:8.1f} ms  ({cold / warm:.1f}x faster)")
    print(
        f"import-linter graph (grimp):       {graph * 1000:8.1f} ms"
        f"  (rules cold/grimp {cold / graph:.2f})"
    )
    print(
        f"import-linter contracts (lint, grimp cache warm): {contracts * 1000:8.1f} ms"
        f"  (rules cold/contracts {cold / contracts:.2f}, warm/contracts {warm / contracts:.2f})"
    )


if __name__ == "__main__":
    main()
