"""`ibguard check` end to end on throwaway projects: exit codes, formats, config errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import jsonschema
import pytest
from ibguard.kit.cli import main

from .projects import CLEAN, VIOLATIONS

Project = Callable[[Mapping[str, str]], Path]
SCHEMA = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"


def check(root: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(root)
    return main(["check", *args])


def test_clean_project_exits_0(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(CLEAN)
    assert check(root, monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out.startswith("0 findings")


def test_violations_of_each_kind_exit_1_with_their_rule_ids(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(VIOLATIONS)
    assert check(root, "--format", "json", monkeypatch=monkeypatch) == 1
    report = json.loads(capsys.readouterr().out)
    found = {(f["path"], f["rule"]) for f in report["findings"]}
    assert found == {
        ("app/engine/bypass.py", "BOUNDARY-02"),
        ("app/engine/bypass.py", "CLOCK-01"),
        ("app/engine/bypass.py", "MONEY-01"),
        ("app/engine/broken.py", "PARSE-ERROR"),
        ("app/engine/quiet.py", "IGNORE-NO-REASON"),
        ("app/connector/mutate.py", "BOUNDARY-01"),
    }
    assert report["files_checked"] == 8
    assert all(set(f) == {"rule", "path", "line", "column", "message"} for f in report["findings"])


def test_text_lines_are_path_line_col_rule_message(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(VIOLATIONS)
    check(root, "app/connector/mutate.py", monkeypatch=monkeypatch)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("app/connector/mutate.py:4:5 BOUNDARY-01 ")


def test_a_suppression_with_a_reason_silences_its_line(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        **CLEAN,
        "app/engine/quiet.py": "import ib_insync  # ibguard: ignore[BOUNDARY-02] vendored shim\n",
    }
    assert check(project(files), monkeypatch=monkeypatch) == 0


def test_a_suppression_that_suppresses_nothing_is_reported(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {**CLEAN, "app/engine/quiet.py": "x = 1  # ibguard: ignore[CLOCK-01] old\n"}
    assert check(project(files), monkeypatch=monkeypatch) == 1
    assert "IGNORE-UNUSED" in capsys.readouterr().out


def test_sarif_output_validates_against_the_official_schema(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = project(VIOLATIONS)
    out = tmp_path / "report.sarif"
    assert check(root, "--format", "sarif", "--output", str(out), monkeypatch=monkeypatch) == 1
    log = json.loads(out.read_text())
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    results = log["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} <= {
        "app/engine/bypass.py",
        "app/engine/broken.py",
        "app/engine/quiet.py",
        "app/connector/mutate.py",
    }
    fingerprints = [r["partialFingerprints"]["ibguardFindingHash/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)
    rule_ids = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    assert {"BOUNDARY-01", "BOUNDARY-02", "CLOCK-01", "MONEY-01", "PARSE-ERROR"} <= set(rule_ids)


def test_sarif_fingerprints_survive_a_line_shift(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = project(VIOLATIONS)

    def fingerprints() -> list[str]:
        out = tmp_path / "r.sarif"
        check(
            root,
            "--format",
            "sarif",
            "--output",
            str(out),
            "app/connector",
            monkeypatch=monkeypatch,
        )
        return [
            r["partialFingerprints"]["ibguardFindingHash/v1"]
            for r in json.loads(out.read_text())["runs"][0]["results"]
        ]

    before = fingerprints()
    path = root / "app/connector/mutate.py"
    path.write_text("\n\n" + path.read_text())
    assert fingerprints() == before


def test_github_format_writes_error_annotations(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    check(
        project(VIOLATIONS),
        "--format",
        "github",
        "app/connector/mutate.py",
        monkeypatch=monkeypatch,
    )
    assert capsys.readouterr().out.startswith(
        "::error file=app/connector/mutate.py,line=4,col=5,title=BOUNDARY-01::"
    )


def test_bad_config_exits_2_naming_every_bad_key(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (
        '[tool.ibguard]\nengine = "app/*.py"\nconector = ["x"]\nsubject = "mine"\n'
        "[tool.ibguard.matrix]\nx = 1\n"
    )
    assert check(project({"pyproject.toml": config}), monkeypatch=monkeypatch) == 2
    error = capsys.readouterr().err
    assert "engine must be a list" in error
    assert "'conector'" in error
    assert "'connector'" in error
    assert "matrix must be true or false" in error  # [tool.ibguard.matrix] is no table
    assert error.count("\n") == 1
    assert "subject" not in error


def test_missing_config_and_missing_path_exit_2(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = project(CLEAN)
    assert check(root, "--config", str(tmp_path / "nope.toml"), monkeypatch=monkeypatch) == 2
    assert check(root, "no/such/file.py", monkeypatch=monkeypatch) == 2
    assert check(tmp_path, monkeypatch=monkeypatch) == 2 or (tmp_path / "pyproject.toml").exists()


def test_no_contracts_and_contracts_only_together_exit_2_with_one_line(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(VIOLATIONS)
    assert check(root, "--no-contracts", "--contracts-only", monkeypatch=monkeypatch) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "--contracts-only" in captured.err


@pytest.mark.parametrize("config", ["", "contracts = false\n"], ids=["none", "disabled"])
def test_contracts_only_without_contracts_exits_2(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: str,
) -> None:
    root = project({**VIOLATIONS, "pyproject.toml": VIOLATIONS["pyproject.toml"] + config})
    assert check(root, "--contracts-only", monkeypatch=monkeypatch) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_config_file_globs_are_relative_to_its_folder(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    root = project({k: v for k, v in VIOLATIONS.items() if k != "pyproject.toml"})
    config = root / "ibguard.toml"
    config.write_text('[tool.ibguard]\nengine = ["app/engine/bypass.py"]\n')
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--config", str(config), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["files_checked"] == 1
    assert {f["path"] for f in report["findings"]} == {"app/engine/bypass.py"}


def test_given_paths_limit_the_check_to_those_files(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(VIOLATIONS)
    assert check(root, "app/engine/strategy.py", "--format", "json", monkeypatch=monkeypatch) == 0
    assert json.loads(capsys.readouterr().out)["files_checked"] == 1


def test_console_script_runs_in_a_subprocess(project: Project) -> None:
    root = project(VIOLATIONS)
    done = subprocess.run(
        [sys.executable, "-m", "ibguard.kit.cli", "check", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "BOUNDARY-02" in done.stdout
    assert "Traceback" not in done.stderr
