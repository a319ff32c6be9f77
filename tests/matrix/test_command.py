"""`ibguard matrix` end to end (in-process): formats, exit codes, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ibguard.kit.cli import main
from ibguard.kit.matrix.catalog import CASES, variant_ids

pytestmark = pytest.mark.untraced  # replays engine lines tests/engine traces (tests/conftest.py)

BROKEN = "tests.matrix.broken_engines.duplicate_exec_ids:make_subject"


def test_json_one_object_per_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "-k", "CONN-02 or LIFE-06", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(d["id"], d["result"]) for d in data] == [("CONN-02", "pass"), ("LIFE-06", "pass")]
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
    assert [row.split(" | ")[0].strip("| ") for row in rows] == ["LIFE-05[live]"]
    why = rows[0].rstrip(" |").rsplit(" | ", 1)[1]
    assert why.startswith("o1 filled 180")  # one line of why it failed
    assert why.endswith("from one execution of 60")


def test_variants_are_test_ids_in_every_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "--driver", "inprocess", "-k", "LIFE-05", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(d["id"], d["variant"]) for d in data] == [
        ("LIFE-05", "live"),
        ("LIFE-05", "after-reconnect"),
    ]
    assert main(["matrix", "--driver", "inprocess", "-k", "LIFE-05 and reconnect"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[2].startswith("LIFE-05[after-reconnect]  Duplicate execDetails")


def test_a_skip_shows_the_capability_that_made_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.ibguard]\ncapabilities = ["flatten"]\n')
    argv = ["matrix", "--config", str(config), "--driver", "inprocess", "-k", "CONN-02"]
    assert main([*argv, "--format", "markdown"]) == 0
    [row] = [line for line in capsys.readouterr().out.splitlines() if "| SKIP |" in line]
    assert row.endswith("| CONN-02 needs subject capabilities restart |")


def test_list_prints_the_catalog_with_variants_and_the_pinned_set(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.ibguard]\ncases = ["CONN-01", "LIFE-05"]\n')
    assert main(["matrix", "--list", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines[2:-1]}
    assert set(rows) == {c.id for c in CASES}
    assert "received, lost" in rows["CONN-01"]
    assert rows["CONN-01"].rstrip().endswith("yes")
    assert rows["CONN-02"].rstrip().endswith("no")
    assert lines[-1].startswith(f"{len(CASES)} cases, {len(variant_ids())} tests")


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
