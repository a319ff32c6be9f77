"""The coverage gate: each configured package at or above its minimum line+branch percent.

Owns reading a `coverage.Coverage` (pytest-cov's combined data) per package and saying, per
failing package, which lines and branches are missing. Pure data in, data out: the pytest
plugin decides what to print and whether the session fails.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

__all__ = ["GateResult", "check_gate"]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    package: str
    minimum: float
    percent: float
    missing: tuple[str, ...]  # "path: lines 3, 5-7; branches 10->12"

    @property
    def ok(self) -> bool:
        return self.percent >= self.minimum

    def describe(self) -> str:
        head = f"{self.package}: {self.percent:.2f}% line+branch, minimum {self.minimum:g}%"
        return head if self.ok else head + "; missing: " + " | ".join(self.missing)


def _package_dir(package: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if locations:
        return Path(locations[0]).resolve()
    return Path(spec.origin).resolve() if spec.origin else None


def _ranges(numbers: list[int]) -> str:
    parts: list[tuple[int, int]] = []  # (first, last) of each run of consecutive numbers
    for n in sorted(numbers):
        if parts and parts[-1][1] == n - 1:
            parts[-1] = (parts[-1][0], n)
        else:
            parts.append((n, n))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)


def _measured_files(cov: Any, where: Path) -> dict[str, Any] | None:
    """Per-file JSON report entries under `where` (unexecuted source files included, which
    an `include=` filter would drop)."""
    from coverage.exceptions import NoDataError

    with tempfile.TemporaryDirectory(prefix="ibguard-gate-") as folder:
        out = Path(folder) / "coverage.json"
        try:
            cov.json_report(outfile=str(out))
        except NoDataError:
            return None
        data = json.loads(out.read_text(encoding="utf-8"))
    files = {}
    for path, entry in data.get("files", {}).items():
        absolute = Path(path).resolve()
        if absolute == where or where in absolute.parents:
            files[path] = entry
    return files or None


def check_gate(cov: Any, minimums: Mapping[str, float]) -> list[GateResult]:
    """One result per package. `cov` is a loaded coverage.Coverage."""
    results = []
    for package, minimum in minimums.items():
        where = _package_dir(package)
        if where is None:
            results.append(
                GateResult(
                    package=package,
                    minimum=minimum,
                    percent=0.0,
                    missing=("the package cannot be imported",),
                )
            )
            continue
        files = _measured_files(cov, where)
        if files is None:
            results.append(
                GateResult(
                    package=package,
                    minimum=minimum,
                    percent=0.0,
                    missing=("no line of it was measured",),
                )
            )
            continue
        missing = []
        hit = total = 0
        for path, entry in sorted(files.items()):
            summary = entry.get("summary", {})
            hit += summary.get("covered_lines", 0) + summary.get("covered_branches", 0)
            total += summary.get("num_statements", 0) + summary.get("num_branches", 0)
            lines = list(entry.get("missing_lines", []))
            branches = [f"{a}->{b}" for a, b in entry.get("missing_branches", [])]
            if lines or branches:
                text = f"{path}:"
                text += f" lines {_ranges(lines)}" if lines else ""
                text += f" branches {', '.join(branches)}" if branches else ""
                missing.append(text)
        percent = 100.0 * hit / total if total else 100.0
        results.append(
            GateResult(package=package, minimum=minimum, percent=percent, missing=tuple(missing))
        )
    return results
