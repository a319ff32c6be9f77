"""The matrix inside pytest: one item per catalog case, results gathered on the controller.

Owns `MatrixCollector` (yields `CaseItem`s named by case id, so `pytest -k CONN-01` works),
`CaseItem` (plays one case through `runner.play`; capability gaps skip, configured xfails
are strict), and `MatrixPlugin` (turns reports into `CaseResult`s, on the xdist controller
too, from each report's `user_properties`; prints the table; writes the JSON file).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ibguard.kit.matrix.catalog import CASES, case
from ibguard.kit.matrix.drivers import Driver
from ibguard.kit.matrix.render import render_json, render_table
from ibguard.kit.matrix.results import CaseResult
from ibguard.kit.matrix.runner import MissingCapability, Observed, play
from ibguard.kit.matrix.stage import CaseFailure
from ibguard.kit.matrix.subject import Subject

__all__ = ["CaseItem", "MatrixCollector", "MatrixPlugin", "MatrixRun"]

COLLECTOR_NAME = "ibguard-matrix"


@dataclass(frozen=True, slots=True)
class MatrixRun:
    subject_factory: Callable[[], Subject]
    driver_factory: Callable[[], Driver]
    capabilities: frozenset[str] | None
    xfail: dict[str, str]


class MatrixCollector(pytest.Collector):
    def __init__(self, *, run: MatrixRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run

    def collect(self) -> Iterator[CaseItem]:
        for entry in CASES:
            yield CaseItem.from_parent(self, name=entry.id, run=self.run)


class CaseItem(pytest.Item):
    def __init__(self, *, run: MatrixRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run
        entry = case(self.name)
        self.user_properties += [
            ("id", entry.id),
            ("category", entry.category),
            ("cost", entry.cost),
        ]
        reason = run.xfail.get(entry.id)
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
            )
        except MissingCapability as missing:
            pytest.skip(str(missing))
        finally:
            self.user_properties += [
                ("code", ",".join(observed.codes_seen)),
                ("figures", json.dumps(observed.figures, sort_keys=True)),
            ]

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailure):
            return f"{self.name} ({case(self.name).name}): {excinfo.value}"
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"ibguard matrix {self.name}"


def _property(report: pytest.TestReport, key: str) -> str:
    for name, value in reversed(report.user_properties):
        if name == key:
            return str(value)
    return ""


class MatrixPlugin:
    def __init__(self, run: MatrixRun | None, json_path: Path | None) -> None:
        self.run = run
        self.json_path = json_path
        self.results: dict[str, dict[str, Any]] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if self.run is None:
            return
        collector = MatrixCollector.from_parent(
            session, name=COLLECTOR_NAME, nodeid=COLLECTOR_NAME, run=self.run
        )
        items.extend(collector.collect())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        case_id = _property(report, "id")
        if not case_id or not report.nodeid.startswith(COLLECTOR_NAME + "::"):
            return
        entry = self.results.setdefault(case_id, {"result": "pass", "duration": 0.0})
        entry["duration"] += report.duration
        if report.when == "call":
            entry["code"] = _property(report, "code")
            entry["figures"] = json.loads(_property(report, "figures") or "{}")
        if report.failed:
            entry["result"] = "fail"
            entry["reason"] = str(report.longrepr)[-500:]
        elif report.skipped and entry["result"] != "fail":
            entry["result"] = "xfail" if hasattr(report, "wasxfail") else "skip"
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else getattr(report, "wasxfail", "")
            entry["reason"] = str(reason)

    def case_results(self) -> list[CaseResult]:
        order = {c.id: i for i, c in enumerate(CASES)}
        return [
            CaseResult(
                id=cid,
                result=e["result"],
                duration_s=e["duration"],
                code=e.get("code", ""),
                reason=e.get("reason", ""),
                figures=e.get("figures", {}),
            )
            for cid, e in sorted(self.results.items(), key=lambda kv: order[kv[0]])
        ]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.json_path is not None and not hasattr(session.config, "workerinput"):
            self.json_path.write_text(render_json(self.case_results()), encoding="utf-8")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        results = self.case_results()
        if results:
            terminalreporter.write_sep("=", "ibguard matrix")
            terminalreporter.write(render_table(results))
