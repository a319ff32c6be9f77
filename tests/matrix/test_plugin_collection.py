"""The matrix is collected on pytest's standard path: its own collector under the session,
items reported to every plugin's collection hooks, and `ibguard matrix` unaffected by the
project's own tests and conftest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ibguard.kit.cli import main
from ibguard.kit.matrix.catalog import CASE_SETS, variant_ids

PYPROJECT = """
[tool.ibguard]
matrix = true
driver = "inprocess"
"""

# A plugin that only listens to pytest's collection hooks, as reporting plugins do.
LISTENER = """
import json

seen = {"items": [], "collectors": []}

def pytest_itemcollected(item):
    seen["items"].append(item.nodeid)

def pytest_collectreport(report):
    seen["collectors"].append(report.nodeid)

def pytest_sessionfinish(session):
    with open("seen.json", "w") as f:
        json.dump(seen, f)
"""


def test_every_case_reaches_the_collection_hooks_of_other_plugins(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".toml", pyproject=PYPROJECT)
    pytester.makeconftest(LISTENER)
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    seen = json.loads((pytester.path / "seen.json").read_text())
    assert "ibguard-matrix" in seen["collectors"]
    matrix_items = [n for n in seen["items"] if n.startswith("ibguard-matrix::")]
    assert matrix_items == [f"ibguard-matrix::{t}" for t in variant_ids()]


def test_deselect_works_on_a_case_like_on_any_test(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", pyproject=PYPROJECT)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-k", "LIFE-0", "--deselect", "ibguard-matrix::LIFE-05[live]"
    )
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == len([t for t in variant_ids() if t.startswith("LIFE-0")]) - 1


def test_matrix_command_ignores_the_projects_tests_and_conftest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conftest.py").write_text("raise RuntimeError('project conftest ran')\n")
    (tmp_path / "test_broken.py").write_text("def test_x():\n    assert False\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option\n")
    monkeypatch.chdir(tmp_path)
    code = main(["matrix", "--driver", "inprocess", "-k", "LIFE-06", "--format", "json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert [(d["id"], d["result"]) for d in data] == [("LIFE-06", "pass")]
    assert sorted(os.listdir(tmp_path)) == ["conftest.py", "pytest.ini", "test_broken.py"]


def test_a_pinned_case_set_keeps_later_cases_out_of_the_gate(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", pyproject=PYPROJECT + 'cases = "seed-30"\n')
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")
    items = [line for line in result.outlines if line.startswith("ibguard-matrix::")]
    assert items == [f"ibguard-matrix::{t}" for t in variant_ids(CASE_SETS["seed-30"])]
    assert not [item for item in items if "SEC-03" in item]
    assert len(items) < len(variant_ids())  # upgrading added cases; the pinned gate has none
