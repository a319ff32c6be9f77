"""Benchmark: ibguard's rule runner against Fixit's `fixit lint` API, side by side.

Run: `python tests/bench/bench_rules_fixit.py [--copies N]` (Fixit must be installed, e.g.
`pip install fixit`; it is not a dependency of ibguard: without it the bench says so and
exits 0). Prints times and ratios; asserts nothing (timings depend on the machine).

Both tools run in this process, on the same files: a copy of this repository's `engine/` and
`kit/` (N copies for a bigger corpus) in a temporary folder, all of it engine code. Both run
one comparable rule, the wall-clock check: ibguard's CLOCK-01 (`EngineReadsWallClock`, which
resolves names through its own scope pass) and a Fixit rule with the same call list that
resolves names through libcst's QualifiedNameProvider. The finding counts are printed so a
reader can see the two did the same work. ibguard runs cold (no cache) in one process and in
its pool, then warm (content-hash cache, nothing changed); Fixit runs serially and in its own
process pool (it has no cache).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ibguard.rules.discovery import discover
from ibguard.rules.runner import check_project
from ibguard.rules.settings import load_settings
from ibguard.rules.wall_clock import _ALWAYS, _WITHOUT_ARGS, EngineReadsWallClock

try:
    import fixit
    from fixit.ftypes import Options, QualifiedRule
    from libcst.metadata import QualifiedNameProvider
except ImportError:  # the bench skips; see main()
    fixit = None

REPO = Path(__file__).resolve().parents[2]
RULE = (EngineReadsWallClock,)

if fixit is not None:
    import libcst as cst

    class FixitWallClock(fixit.LintRule):  # type: ignore[misc]
        """CLOCK-01's check as a Fixit rule: the same calls, by qualified name."""

        METADATA_DEPENDENCIES = (QualifiedNameProvider,)
        MESSAGE = "engine code reads the wall clock"
        VALID = [fixit.Valid("import time\nstarted = time.monotonic()\n")]
        INVALID = [fixit.Invalid("import time\nnow = time.time()\n")]

        def visit_Call(self, node: cst.Call) -> None:
            names = self.get_metadata(QualifiedNameProvider, node.func, set())
            for name in names:
                if name.name in _ALWAYS or (name.name in _WITHOUT_ARGS and not node.args):
                    self.report(node)
                    return


def _corpus(folder: Path, copies: int) -> Path:
    """`copies` copies of engine/ and kit/ under `folder`, with a [tool.ibguard] config."""
    globs = []
    for copy in range(copies):
        package = f"ibguard{copy}"
        for part in ("engine", "kit"):
            shutil.copytree(
                REPO / part,
                folder / package / part,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
            globs.append(f'"{package}/{part}/**/*.py"')
    (folder / "pyproject.toml").write_text(f"[tool.ibguard]\nengine = [{', '.join(globs)}]\n")
    return folder


def _best(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The fastest of `repeat` runs (seconds) and the last run's result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return min(times), result


def _fixit(paths: Sequence[Path], *, parallel: bool) -> int:
    assert fixit is not None
    # Importable as `bench_rules_fixit` (this folder is on sys.path when run as a script).
    options = Options(rules=[QualifiedRule("bench_rules_fixit", "FixitWallClock")])
    results = fixit.fixit_paths(paths, options=options, parallel=parallel)
    found = 0
    for result in results:
        if result.error is not None:
            raise RuntimeError(f"fixit failed on {result.path}: {result.error[0]!r}")
        found += result.violation is not None
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--copies", type=int, default=1, help="copies of engine/ and kit/")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best)")
    args = parser.parse_args(argv)
    if fixit is None:
        print("fixit is not installed: comparison skipped (pip install fixit)", file=sys.stderr)
        return 0
    sys.path.insert(0, str(Path(__file__).parent))

    with tempfile.TemporaryDirectory() as temporary:
        root = _corpus(Path(temporary), args.copies)
        settings = load_settings(root / "pyproject.toml")
        paths = [f.path for f in discover(settings)]
        lines = sum(len(p.read_bytes().splitlines()) for p in paths)

        def ibguard(*, jobs: int | None, use_cache: bool) -> int:
            result = check_project(settings, rules=RULE, jobs=jobs, use_cache=use_cache)
            return sum(f.rule == "CLOCK-01" for f in result.findings)

        _fixit(paths[:2], parallel=False)  # imports and rule collection, outside the timings
        ibguard(jobs=1, use_cache=False)
        rows: list[tuple[str, float, int]] = []
        for name, action, repeat in (
            ("ibguard cold, 1 process", lambda: ibguard(jobs=1, use_cache=False), args.repeat),
            ("ibguard cold, pool", lambda: ibguard(jobs=None, use_cache=False), args.repeat),
            ("ibguard filling the cache", lambda: ibguard(jobs=None, use_cache=True), 1),
            ("ibguard warm (cache)", lambda: ibguard(jobs=None, use_cache=True), args.repeat),
            ("fixit lint, 1 process", lambda: _fixit(paths, parallel=False), args.repeat),
            ("fixit lint, pool", lambda: _fixit(paths, parallel=True), args.repeat),
        ):
            seconds, found = _best(action, repeat)
            rows.append((name, seconds, found))

    print(f"{len(paths)} files, {lines} lines; one rule (CLOCK-01); best of {args.repeat}")
    for name, seconds, found in rows:
        print(f"  {name:<26} {seconds * 1000:9.1f} ms  {found:4d} findings")
    timings = {name: seconds for name, seconds, _ in rows}
    print("ratios (fixit time / ibguard time; > 1: ibguard is faster):")
    for fixit_row, ibguard_row in (
        ("fixit lint, 1 process", "ibguard cold, 1 process"),
        ("fixit lint, pool", "ibguard cold, pool"),
        ("fixit lint, 1 process", "ibguard warm (cache)"),
        ("fixit lint, pool", "ibguard warm (cache)"),
    ):
        ratio = timings[fixit_row] / timings[ibguard_row]
        print(f"  {fixit_row} / {ibguard_row}: {ratio:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
