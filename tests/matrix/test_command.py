"""`ibguard matrix` end to end (in-process): formats, exit codes, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ibguard.kit.cli import main

BROKEN = "tests.matrix.broken_engines.duplicate_exec_ids:make_subject"


def test_json_one_object_per_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "-k", "CONN-01 or LIFE-05", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(d["id"], d["result"]) for d in data] == [("CONN-01", "pass"), ("LIFE-05", "pass")]
    assert set(data[0]) >= {"id", "result", "duration_s", "code"}


def test_broken_subject_exits_1_naming_the_case(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "m.md"
    code = main(
        ["matrix", "--subject", BROKEN, "-k", "LIFE", "--format", "markdown", "--output", str(out)]
    )
    assert code == 1
    rows = [line for line in out.read_text().splitlines() if "| FAIL |" in line]
    assert [row.split(" | ")[0].strip("| ") for row in rows] == ["LIFE-05"]


def test_junit_has_case_properties(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "-k", "EDGE-01", "--format", "junit"]) == 0
    xml = capsys.readouterr().out
    assert '<property name="id" value="EDGE-01"' in xml
    assert '<property name="category" value="EDGE"' in xml


@pytest.mark.parametrize(
    "argv",
    [
        ["matrix", "--config", "no/such/pyproject.toml"],
        ["matrix", "--subject", "no_such_module:make"],
        ["matrix", "-k", "NOPE-99"],
    ],
    ids=["missing-config", "bad-subject", "no-case-matches"],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "ibguard matrix: error:" in capsys.readouterr().err
