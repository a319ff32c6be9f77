"""`ibguard` starts fast: it imports only the subcommand that was chosen."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_PROBE = """
import contextlib, json, sys
from ibguard.kit.cli import main
with contextlib.redirect_stdout(None), contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(json.dumps(sorted(sys.modules)))
"""
_HEAVY = (
    "libcst",
    "ibguard.kit.matrix",
    "ibguard.kit.gateway",
    "ibguard.kit.sim",
    "ibguard.engine",
)


def _imported(*argv: str) -> list[str]:
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True
    )
    modules: list[str] = json.loads(run.stdout.splitlines()[-1])
    return modules


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(_HEAVY) or m.startswith("ibguard.rules.")]


@pytest.mark.parametrize("argv", [("--help",), ("--version",), ()])
def test_the_top_level_help_and_version_import_no_subcommand(argv: tuple[str, ...]) -> None:
    assert _heavy(_imported(*argv)) == []


def test_check_imports_neither_the_matrix_nor_the_gateway_nor_the_engine() -> None:
    modules = _imported("check", "--help")
    assert "ibguard.rules.command" in modules
    assert [m for m in modules if m.startswith(_HEAVY[1:])] == []


def test_every_subcommand_still_has_its_own_help(capsys: pytest.CaptureFixture[str]) -> None:
    from ibguard.kit.cli import SUBCOMMANDS, main

    for name in SUBCOMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert f"usage: ibguard {name}" in capsys.readouterr().out
