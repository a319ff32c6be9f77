"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit from a consumer repository.

The consumer references a git copy of this work tree (`repo: <path>`, `rev: <commit>`);
pre-commit clones it and pip-installs ibguard into its own environment, as it would from
GitHub. Slow (one hook environment install): marked `slow`, still part of the default run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.consumer import CONFIG, ENGINE_VIOLATION, PROJECT, git, write
from tests.packaging.snapshot import ROOT, clean_env, snapshot

pytestmark = pytest.mark.slow


def test_the_hook_manifest_is_valid() -> None:
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"],
        cwd=ROOT,
        check=True,
    )


def test_a_violation_blocks_the_commit_and_a_clean_commit_passes(tmp_path: Path) -> None:
    hook_repo, rev = snapshot(tmp_path / "ibguard")
    consumer = write(tmp_path / "consumer", PROJECT)
    (consumer / "pyproject.toml").write_text(CONFIG, encoding="utf-8")
    (consumer / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {hook_repo}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: ibguard-check\n"
        "      - id: ibguard-contracts\n",
        encoding="utf-8",
    )
    env = clean_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PRE_COMMIT_COLOR="never")
    git(consumer, "init", "-q")
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=consumer,
        env=env,
        check=True,
        capture_output=True,
    )

    def commit(message: str) -> subprocess.CompletedProcess[str]:
        git(consumer, "add", "-A")
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-m", message],
            cwd=consumer,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )

    clean = commit("clean engine and connector")
    assert clean.returncode == 0, clean.stdout
    assert "ibguard check (boundary rules on changed files)" in clean.stdout
    assert "ibguard contracts (import-linter, whole graph)" in clean.stdout
    assert clean.stdout.count("Passed") == 2, clean.stdout

    write(consumer, ENGINE_VIOLATION)
    blocked = commit("engine calls the broker")
    assert blocked.returncode != 0
    # Each hook reports its own findings: the rule finding once (ibguard-check), the broken
    # contract once (ibguard-contracts, which runs no rules).
    assert blocked.stdout.count("trader/engine/panic.py:5:5 BOUNDARY-02") == 1, blocked.stdout
    assert blocked.stdout.count("CONTRACT-BROKER-BOUNDARY") == 1, blocked.stdout
    assert git(consumer, "rev-list", "--count", "HEAD").stdout.strip() == "1"
