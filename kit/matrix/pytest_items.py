"""The matrix inside pytest: a collector of its own, one item per case variant, results as
objects.

Owns `MatrixCollector` (a child of the session, added through pytest's collect-report hook,
so the items go through pytest's own collection: `-k CONN-01`, `--deselect`, `-m`, xdist and
`--collect-only` see them like any test), `CaseItem` (plays one test id through
`runner.play`; capability gaps skip, configured xfails are strict; a subject that raises or
hangs fails in a few lines naming its method) and `MatrixPlugin` (turns reports into
`CaseResult`s, on the xdist controller too, from each report's `user_properties`; prints the
table; writes the JSON file; keeps what stopped the session so that `ibguard matrix`, which
runs pytest in process with this plugin object, can say it in one line).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ibguard.kit.matrix.catalog import case, variant_ids
from ibguard.kit.matrix.drivers import Driver
from ibguard.kit.matrix.render import render_json, render_table
from ibguard.kit.matrix.results import CaseResult
from ibguard.kit.matrix.runner import MissingCapability, Observed, play
from ibguard.kit.matrix.stage import CaseFailure, CaseNotPlayable
from ibguard.kit.matrix.subject import Subject
from ibguard.kit.matrix.subject_calls import CaseTimeout, SubjectError, where_raised

__all__ = ["COLLECTOR_NAME", "CaseItem", "MatrixCollector", "MatrixPlugin", "MatrixRun"]

COLLECTOR_NAME = "ibguard-matrix"


@dataclass(frozen=True, slots=True)
class MatrixRun:
    subject_factory: Callable[[], Subject]
    driver_factory: Callable[[], Driver]
    capabilities: frozenset[str] | None
    xfail: dict[str, str]
    cases: tuple[str, ...] | None = None  # case ids to run (None: every case)
    case_timeout: float = 0.0  # seconds per case (0: unbounded)


class MatrixCollector(pytest.Collector):
    def __init__(self, *, run: MatrixRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run

    def collect(self) -> Iterator[CaseItem]:
        for test_id in variant_ids(self.run.cases):
            yield CaseItem.from_parent(self, name=test_id, run=self.run)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "ibguard matrix"


class CaseItem(pytest.Item):
    def __init__(self, *, run: MatrixRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run
        entry = case(self.name)
        self.variant = self.name[len(entry.id) :].strip("[]")
        self.user_properties += [
            ("id", entry.id),
            ("variant", self.variant),
            ("category", entry.category),
            ("cost", entry.cost),
        ]
        reason = run.xfail.get(self.name, run.xfail.get(entry.id))
        if reason is not None:
            self.add_marker(pytest.mark.xfail(reason=reason, strict=True))

    def runtest(self) -> None:
        observed = Observed()
        try:
            play(
                self.name,
                self.run.subject_factory,
                self.run.driver_factory,
                capabilities=self.run.capabilities,
                observed=observed,
                timeout=self.run.case_timeout,
            )
        except (MissingCapability, CaseNotPlayable) as unplayable:
            pytest.skip(str(unplayable))
        finally:
            self.user_properties += [
                ("code", ",".join(observed.codes_seen)),
                ("figures", json.dumps(observed.figures, sort_keys=True)),
            ]

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        error = excinfo.value
        head = f"{self.name} ({case(self.name).name}): "
        if isinstance(error, CaseFailure | CaseTimeout):
            return head + str(error)
        if isinstance(error, SubjectError):
            frames = where_raised(error.error)
            return "\n".join([head + str(error), *(f"  at {line}" for line in frames)])
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"ibguard matrix {self.name}"


def _property(report: pytest.TestReport, key: str) -> str:
    for name, value in reversed(report.user_properties):
        if name == key:
            return str(value)
    return ""


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _why_failed(report: pytest.TestReport, test_id: str) -> str:
    """One line: the case's own words, else the exception pytest caught."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    line = _first_line(text)
    head = f"{test_id} ({case(test_id).name}): "
    return line.removeprefix(head)[:500]


class MatrixPlugin:
    """Registered by the pytest11 entry point (`run` from [tool.ibguard]) or handed to
    `pytest.main(plugins=[...])` by `ibguard matrix` (`matrix_only`: nothing but the matrix
    is collected, whatever folder pytest starts in)."""

    def __init__(
        self, run: MatrixRun | None, json_path: Path | None = None, *, matrix_only: bool = False
    ) -> None:
        self.run = run
        self.json_path = json_path
        self.matrix_only = matrix_only
        self.results: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = []  # collection errors and internal errors, one line each

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Any:
        report = yield
        if self.run is not None and isinstance(collector, pytest.Session) and report.passed:
            report.result.append(
                MatrixCollector.from_parent(
                    collector, name=COLLECTOR_NAME, nodeid=COLLECTOR_NAME, run=self.run
                )
            )
        return report

    def pytest_ignore_collect(self, collection_path: Path) -> bool | None:
        return True if self.matrix_only else None

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.problems.append(
                f"{report.nodeid or 'collection'}: {_first_line(str(report.longrepr))}"
            )

    def pytest_internalerror(self, excrepr: Any) -> None:
        lines = [line for line in str(excrepr).splitlines() if line.startswith("E ")]
        self.problems.append(lines[-1][2:].strip() if lines else _first_line(str(excrepr)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        case_id = _property(report, "id")
        if not case_id or not report.nodeid.startswith(COLLECTOR_NAME + "::"):
            return
        test_id = report.nodeid.split("::", 1)[1]
        entry = self.results.setdefault(
            test_id,
            {
                "id": case_id,
                "variant": _property(report, "variant"),
                "result": "pass",
                "duration": 0.0,
            },
        )
        entry["duration"] += report.duration
        if report.when == "call":
            entry["code"] = _property(report, "code")
            entry["figures"] = json.loads(_property(report, "figures") or "{}")
        if report.failed:
            entry["result"] = "fail"
            entry["reason"] = _why_failed(report, test_id)
        elif report.skipped and entry["result"] != "fail":
            entry["result"] = "xfail" if hasattr(report, "wasxfail") else "skip"
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else getattr(report, "wasxfail", "")
            entry["reason"] = str(reason).removeprefix("Skipped: ")

    def case_results(self) -> list[CaseResult]:
        order = {test_id: i for i, test_id in enumerate(variant_ids())}
        return [
            CaseResult(
                id=e["id"],
                variant=e["variant"],
                result=e["result"],
                duration_s=e["duration"],
                code=e.get("code", ""),
                reason=e.get("reason", ""),
                figures=e.get("figures", {}),
            )
            for test_id, e in sorted(self.results.items(), key=lambda kv: order[kv[0]])
        ]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.json_path is not None and not hasattr(session.config, "workerinput"):
            self.json_path.write_text(render_json(self.case_results()), encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        results = self.case_results()
        if results:
            terminalreporter.write_sep("=", "ibguard matrix")
            terminalreporter.write(render_table(results))
