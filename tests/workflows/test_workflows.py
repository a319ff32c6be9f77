"""The GitHub workflows: schema-valid, internally consistent, and the gate's own logic works.

actionlint is a Go binary that cannot be installed offline; the schema check is
check-jsonschema's vendored GitHub workflow schema (`vendor.github-workflows`), plus the
cross-references actionlint would catch (undeclared inputs, unknown step ids, permissions a
caller does not grant).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
GATE = WORKFLOWS / "ibguard-gate.yml"
FILES = sorted(WORKFLOWS.glob("*.yml"))
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def load(path: Path) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the `on` key as a boolean
        data["on"] = data.pop(True)
    return data


def expressions(node: object) -> list[str]:
    if isinstance(node, str):
        return [m.group(1).strip() for m in EXPRESSION.finditer(node)]
    if isinstance(node, dict):
        return [e for key, value in node.items() for e in expressions(key) + expressions(value)]
    if isinstance(node, list):
        return [e for item in node for e in expressions(item)]
    return []


def test_there_are_a_ci_and_a_reusable_gate_workflow() -> None:
    assert {p.name for p in FILES} >= {"ci.yml", "ibguard-gate.yml"}
    assert "workflow_call" in load(GATE)["on"]


def test_every_workflow_passes_the_github_workflow_schema() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, FILES),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_has_teeth(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    step: []\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(bad),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_inputs_and_step_ids_referenced_are_declared(path: Path) -> None:
    workflow = load(path)
    trigger = workflow["on"]
    declared = set()
    if isinstance(trigger, dict) and isinstance(trigger.get("workflow_call"), dict):
        declared = set(trigger["workflow_call"].get("inputs", {}))
    for name, job in workflow["jobs"].items():
        step_ids = {step["id"] for step in job.get("steps", []) if "id" in step}
        for expression in expressions(job):
            for used in re.findall(r"(?<![.\w])inputs\.([\w-]+)", expression):
                assert used in declared, f"{path.name} job {name}: undeclared input {used}"
            for used in re.findall(r"(?<![.\w])steps\.([\w-]+)", expression):
                assert used in step_ids, f"{path.name} job {name}: unknown step id {used}"
            for used in re.findall(r"(?<![.\w])matrix\.([\w-]+)", expression):
                assert used in job.get("strategy", {}).get("matrix", {}), used


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_callers_of_the_gate_pass_declared_inputs_and_grant_its_permissions(path: Path) -> None:
    gate = load(GATE)
    inputs = gate["on"]["workflow_call"]["inputs"]
    needed = gate["jobs"]["gate"]["permissions"]
    for job in load(path)["jobs"].values():
        if not str(job.get("uses", "")).endswith("ibguard-gate.yml"):
            continue
        assert set(job.get("with", {})) <= set(inputs)
        granted = job.get("permissions", {})
        for scope, level in needed.items():
            assert granted.get(scope) in (level, "write"), f"caller must grant {scope}: {level}"


def test_ci_runs_the_readme_test_command_on_python_310_to_313() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert quickstart is not None
    test_command = quickstart.group(1).splitlines()[1]
    jobs = load(WORKFLOWS / "ci.yml")["jobs"]
    runs = [step.get("run", "") for step in jobs["test"]["steps"]]
    assert test_command in runs
    assert jobs["test"]["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12", "3.13"]
    everything = json.dumps(jobs)
    for gate in ("ruff check", "ruff format --check", "mypy", "--cov-fail-under=100"):
        assert gate in everything, gate
    assert jobs["gate"]["uses"] == "./.github/workflows/ibguard-gate.yml"


def _gate_step(name_part: str) -> dict[str, Any]:
    steps = load(GATE)["jobs"]["gate"]["steps"]
    return next(s for s in steps if name_part in s.get("name", ""))


def test_the_gate_fails_the_job_when_any_gate_failed() -> None:
    gate = _gate_step("Gate")
    assert gate["if"] == "${{ always() }}"
    for outcomes, code in (
        (("success", "success"), 0),
        (("failure", "success"), 1),
        (("success", "failure"), 1),
    ):
        env = {"CHECK": outcomes[0], "MATRIX": outcomes[1], "PATH": "/usr/bin:/bin"}
        result = subprocess.run(
            ["bash", "-c", gate["run"]], env=env, capture_output=True, check=False
        )
        assert result.returncode == code, (outcomes, result.stdout)
    for step_name in ("Boundary check", "Execution matrix"):
        assert _gate_step(step_name)["continue-on-error"] is True


def _python_blocks(step_name: str) -> list[str]:
    """The Python programs a gate step runs through `python - <<'PY'` heredocs."""
    return re.findall(r"<<'PY'\n(.*?)\n\s*PY\n", _gate_step(step_name)["run"], re.S)


def test_the_sarif_paths_are_made_relative_to_the_repository_root(tmp_path: Path) -> None:
    (code,) = _python_blocks("Boundary check")
    sarif = tmp_path / "x.sarif"
    location = {"physicalLocation": {"artifactLocation": {"uri": "app/engine/x.py"}}}
    sarif.write_text(json.dumps({"runs": [{"results": [{"locations": [location]}]}]}))
    subprocess.run([sys.executable, "-c", code, str(sarif), "services/trader/"], check=True)
    uri = json.loads(sarif.read_text())["runs"][0]["results"][0]["locations"][0]
    assert uri["physicalLocation"]["artifactLocation"]["uri"] == "services/trader/app/engine/x.py"


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('[tool.ibguard.coverage]\n"trader.engine" = 100\n', "--cov=trader.engine --cov-branch"),
        ('[tool.ibguard]\nengine = ["x/*.py"]\n', ""),
    ],
)
def test_the_gate_measures_the_packages_of_the_coverage_gate(
    tmp_path: Path, table: str, expected: str
) -> None:
    (code,) = _python_blocks("Execution matrix")
    (tmp_path / "pyproject.toml").write_text(table)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == expected


def test_the_gate_passes_options_the_plugin_has() -> None:
    run = _gate_step("Execution matrix")["run"]
    helped = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    options = set(re.findall(r"(--ibguard-[\w-]+)", run))
    assert options == {"--ibguard-matrix", "--ibguard-json"}
    for option in options:
        assert option in helped, option


def test_the_job_summary_is_the_markdown_matrix_from_the_json_results(tmp_path: Path) -> None:
    from ibguard.kit.matrix.render import render_json
    from ibguard.kit.matrix.results import CaseResult

    (code,) = _python_blocks("job summary")
    results = tmp_path / "matrix.json"
    results.write_text(
        render_json(
            [
                CaseResult(id="CONN-01", result="pass", duration_s=0.1, code="SUBMIT_PENDING"),
                CaseResult(id="LIFE-05", result="fail", duration_s=0.2, reason="counted twice"),
            ]
        )
    )
    summary = subprocess.run(
        [sys.executable, "-c", code, str(results)], capture_output=True, text=True, check=True
    ).stdout
    assert summary.startswith("## ibguard matrix\n")
    assert "| CONN-01 | Mid-submit disconnect | PASS | SUBMIT_PENDING |" in summary
    assert "| LIFE-05 | Duplicate execDetails | FAIL |" in summary
