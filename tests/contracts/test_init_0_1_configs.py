"""Configs that `ibguard init` 0.1 wrote into teams' repos keep working: the same contracts
are checked with the same results, and each moved contract type path warns naming its new
form. The config is the one init 0.1 wrote (tests/assets/init-0.1.0/pyproject.toml)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from ibguard.contracts.deprecation import IbguardDeprecationWarning
from ibguard.contracts.linting import lint
from ibguard.contracts.templates import importlinter_template

ASSET = Path(__file__).resolve().parents[1] / "assets" / "init-0.1.0"
NEW_PATHS = (
    "ibguard.contracts.BrokerBoundaryContract",
    "ibguard.contracts.EngineIsolationContract",
    "ibguard.contracts.ConnectorInternalsContract",
)


@pytest.fixture
def team_repo(tmp_path: Path) -> Path:
    shutil.copytree(ASSET, tmp_path / "trader-repo")
    return tmp_path / "trader-repo"


def run(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def ibguard_check(root: Path) -> subprocess.CompletedProcess[str]:
    return run(
        root,
        sys.executable,
        "-m",
        "ibguard.kit.cli",
        "check",
        "--contracts-only",
        "--format",
        "json",
    )


def test_ibguard_check_keeps_an_init_0_1_config_and_names_each_new_path(team_repo: Path) -> None:
    done = ibguard_check(team_repo)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["findings"] == []
    warnings = [line for line in done.stderr.splitlines() if "IbguardDeprecationWarning" in line]
    assert len(warnings) == 3
    for new in NEW_PATHS:
        assert any(new in w and w.startswith("pyproject.toml:") for w in warnings), warnings


def test_an_init_0_1_config_still_reports_what_it_reported(team_repo: Path) -> None:
    sizing = team_repo / "trader" / "engine" / "sizing.py"
    sizing.write_text(
        "import time\nimport ib_async\nfrom trader.engine.connector import ib\n",
        encoding="utf-8",
    )
    done = ibguard_check(team_repo)
    assert done.returncode == 1, done.stderr
    found = {(f["rule"], f["path"], f["line"]) for f in json.loads(done.stdout)["findings"]}
    assert found == {
        ("CONTRACT-ENGINE-ISOLATION", "trader/engine/sizing.py", 1),
        ("CONTRACT-BROKER-BOUNDARY", "trader/engine/sizing.py", 2),
        ("CONTRACT-CONNECTOR-INTERNALS", "trader/engine/sizing.py", 3),
    }


def test_lint_imports_reads_an_init_0_1_config_too(team_repo: Path) -> None:
    done = run(team_repo, str(Path(sys.executable).parent / "lint-imports"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken." in done.stdout
    assert "IbguardDeprecationWarning" in done.stderr


def test_the_form_init_writes_now_checks_the_same_without_warnings(team_repo: Path) -> None:
    config = team_repo / "pyproject.toml"
    old = config.read_text(encoding="utf-8")
    config.write_text(
        old[: old.index("[tool.importlinter]")]
        + importlinter_template("trader", engine="trader", connector="trader.engine.connector"),
        encoding="utf-8",
    )
    assert "ibguard.contracts.BrokerBoundaryContract" in config.read_text(encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", IbguardDeprecationWarning)
        assert lint(config, team_repo) == []
