"""`ibguard check` and the one [tool.ibguard] schema: every bad key, wrong type, broken file
and glob that matches nothing is exit 2 with one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from ibguard.kit.cli import main


def _check(tmp_path: Path, pyproject: bytes, capsys: pytest.CaptureFixture[str]) -> str:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "engine.py").write_text("x = 1\n")
    config = tmp_path / "pyproject.toml"
    config.write_bytes(pyproject)
    assert main(["check", "--config", str(config), "--no-contracts", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    ("pyproject", "named"),
    [
        (b"tool = 5\n", "tool must be a table"),
        (b'tool = "x"\n', "tool must be a table"),
        (
            b'[tool.setuptools]\npackage-dir = ["src"]\n[tool.ibguard]\nengine = ["app/*.py"]\n',
            "package-dir",
        ),
        (b"[tool.ibguard]\nengine = ['app/\xff.py']\n", "not UTF-8"),
        (b'[tool.ibguard]\nengine = ["app/*.py"]\n[tool.ibguard.coverag]\n"x" = 1\n', "'coverag'"),
        (b'[tool.ibguard]\nengine = ["app/*.py"]\ndrivr = "wire"\n', "'drivr'"),
        (b'[tool.ibguard]\nengine = ["app/*.py"]\ncoverage = 5\n', "coverage must be"),
    ],
    ids=[
        "tool-int",
        "tool-str",
        "package-dir-list",
        "not-utf8",
        "coverag",
        "drivr",
        "coverage-int",
    ],
)
def test_bad_config_is_exit_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pyproject: bytes, named: str
) -> None:
    assert named in _check(tmp_path, pyproject, capsys)


def test_engine_glob_matching_nothing_is_exit_2_not_a_clean_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _check(tmp_path, b'[tool.ibguard]\nengine = ["src/app/engine/**/*.py"]\n', capsys)
    assert "engine glob 'src/app/engine/**/*.py' matches no .py file" in err


def test_connector_glob_matching_nothing_is_named_even_when_engine_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = b'[tool.ibguard]\nengine = ["app/*.py"]\nconnector = ["app/conector/*.py"]\n'
    assert "connector glob 'app/conector/*.py'" in _check(tmp_path, pyproject, capsys)
