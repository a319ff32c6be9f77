"""`ibguard init` on repositories it must not write into: one line, exit 2, nothing written
(and nothing outside the repository ever written)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.test_init_command import TRADER, init, repo, snapshot


def one_line_exit_2(root: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert init(root, *flags) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("ibguard init: error:")
    return err


def test_a_pre_commit_config_that_is_a_folder_is_refused_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, TRADER)
    (root / ".pre-commit-config.yaml").mkdir()
    before = snapshot(root)
    err = one_line_exit_2(root, capsys)
    assert ".pre-commit-config.yaml" in err
    assert snapshot(root) == before  # pyproject.toml untouched too


@pytest.mark.parametrize(
    "broken",
    [
        "tool = 5\n",  # tool is not a table: appending [tool.ibguard] would break the file
        'tool = "x"\n',
        "[tool]\nibguard = 3\n",  # tool.ibguard is not a table: check could not read it
        "[tool]\nimportlinter = []\n",
    ],
    ids=["tool-int", "tool-str", "ibguard-int", "importlinter-list"],
)
def test_a_broken_pyproject_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str
) -> None:
    root = repo(tmp_path, {**TRADER, "pyproject.toml": broken})
    before = snapshot(root)
    err = one_line_exit_2(root, capsys)
    assert "pyproject.toml" in err
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("ibguard_subject.py", "# not yours\n"),
        ("pyproject.toml", '[project]\nname = "not-yours"\n'),
        (".pre-commit-config.yaml", "repos:\n"),
    ],
)
def test_force_never_writes_through_a_symlink_to_a_file_outside_the_repo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    outside = tmp_path / "home" / "precious.txt"
    outside.parent.mkdir()
    outside.write_text(text, encoding="utf-8")
    root = repo(tmp_path / "repo", TRADER)
    init(root)
    capsys.readouterr()
    (root / name).unlink()
    (root / name).symlink_to(outside)
    err = one_line_exit_2(root, capsys, "--force")
    assert name in err
    assert outside.read_text(encoding="utf-8") == text


def test_a_symlink_inside_the_repo_is_still_followed(tmp_path: Path) -> None:
    root = repo(tmp_path, TRADER)
    real = root / "config" / "pyproject.toml"
    real.parent.mkdir()
    (root / "pyproject.toml").rename(real)
    (root / "pyproject.toml").symlink_to(real)
    assert init(root) == 0
    assert "[tool.ibguard]" in real.read_text(encoding="utf-8")
