"""ibguard obeys the layering it sells: its own contracts are kept, and a layering violation
or an import cycle planted in a copy of the repo is reported by `ibguard check`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("engine", "kit", "rules", "contracts", "errors")


def contracts_check(root: Path, pythonpath: Path | None = None) -> tuple[int, list[dict[str, str]]]:
    """`ibguard check --contracts-only --format json` in `root`: exit code and findings."""
    env = dict(os.environ)
    if pythonpath is not None:  # the copy's packages win over the editable install
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(
        [sys.executable, "-m", "ibguard.kit.cli", "check", "--contracts-only", "--format", "json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)["findings"]


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The package folders under `ibguard/` (so they import as ibguard.*) and the pyproject."""
    for part in PARTS:
        shutil.copytree(
            ROOT / part, tmp_path / "ibguard" / part, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(path: Path, line: str) -> int:
    """Add an import the type checker sees (so grimp does) but nothing runs; returns its line."""
    text = path.read_text(encoding="utf-8")
    text += f"\nif __import__('typing').TYPE_CHECKING:\n    {line}\n"
    path.write_text(text, encoding="utf-8")
    return len(text.splitlines())


def test_the_repo_declares_layers_acyclic_and_boundary_contracts() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    assert contracts["layers"]["type"] == "layers"
    assert contracts["layers"]["layers"][:4] == [
        "ibguard.kit",
        "ibguard.rules",
        "ibguard.contracts",
        "ibguard.engine",
    ]
    assert contracts["kit-layers"]["layers"] == [
        "cli",
        "plugin | engine_command | init | docs",
        "matrix",
        "gateway",
        "sim",
    ]
    assert contracts["acyclic"]["type"] == "acyclic_siblings"
    assert contracts["broker-boundary"]["type"] == "ibguard_broker_boundary"


def test_ibguard_check_keeps_the_repos_own_contracts() -> None:
    code, findings = contracts_check(ROOT)
    assert (code, findings) == (0, [])


def test_a_planted_layering_violation_is_reported(repo_copy: Path) -> None:
    # the engine, which the checkers check, reaching up into them
    line = plant(repo_copy / "ibguard" / "engine" / "clock.py", "import ibguard.rules.findings")
    code, findings = contracts_check(repo_copy, pythonpath=repo_copy)
    assert code == 1
    assert {(f["rule"], f["path"], f["line"]) for f in findings} == {
        ("CONTRACT-LAYERS", "ibguard/engine/clock.py", line)
    }


def test_a_planted_import_cycle_is_reported(repo_copy: Path) -> None:
    line = plant(
        repo_copy / "ibguard" / "kit" / "sim" / "clock.py", "import ibguard.kit.sim.broker"
    )
    code, findings = contracts_check(repo_copy, pythonpath=repo_copy)
    assert code == 1
    assert ("CONTRACT-ACYCLIC", "ibguard/kit/sim/clock.py", line) in {
        (f["rule"], f["path"], f["line"]) for f in findings
    }
    assert {f["rule"] for f in findings} == {"CONTRACT-ACYCLIC"}


def test_a_kit_module_outside_the_kit_layers_is_reported(repo_copy: Path) -> None:
    (repo_copy / "ibguard" / "kit" / "stray.py").write_text('"""Not in any layer."""\n')
    code, findings = contracts_check(repo_copy, pythonpath=repo_copy)
    assert code == 1
    assert [f["rule"] for f in findings] == ["CONTRACT-KIT-LAYERS"]
    assert "ibguard.kit.stray" in findings[0]["message"]
