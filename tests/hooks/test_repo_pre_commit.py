"""This repository's own .pre-commit-config.yaml: valid, and every hook runs a tool of the dev
install (so `pre-commit run --all-files` works offline with CI's versions)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".pre-commit-config.yaml"


def hooks() -> list[dict[str, object]]:
    (repo,) = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["repos"]
    assert repo["repo"] == "local"
    return list(repo["hooks"])


def test_pre_commit_accepts_the_config() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_mypy_and_ibguards_own_hooks_are_there() -> None:
    ids = {str(h["id"]) for h in hooks()}
    assert {"ruff-check", "ruff-format", "mypy", "ibguard-check", "ibguard-contracts"} <= ids


def test_every_hook_runs_a_tool_of_the_dev_install() -> None:
    bin_dir = Path(sys.executable).parent
    for hook in hooks():
        assert hook["language"] == "system", hook["id"]
        tool = shlex.split(str(hook["entry"]))[0]
        found = shutil.which(tool, path=str(bin_dir)) or shutil.which(tool)
        assert found, f"hook {hook['id']}: {tool} is not installed by pip install -e '.[dev]'"
