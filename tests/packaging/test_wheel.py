"""The distributions: what the wheel holds, and the wheel installed in a fresh venv.

Marked `slow` (one build, one venv install per session); part of the default run.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.packaging.conftest import Built, Venv
from tests.packaging.consumer import CONFIG, ENGINE_VIOLATION, PROJECT, write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = pytest.mark.slow

PARTS = ("engine", "kit", "rules", "contracts", "errors")


def pyproject(source: Path) -> dict:  # type: ignore[type-arg]
    return tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))


def wheel_names(built: Built) -> set[str]:
    with zipfile.ZipFile(built.wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_adds_only_ibguard_to_site_packages(built: Built) -> None:
    version = pyproject(built.source)["project"]["version"]
    tops = {name.split("/", 1)[0] for name in wheel_names(built)}
    assert tops == {"ibguard", f"ibguard-{version}.dist-info"}


def test_every_source_file_of_the_four_parts_is_in_the_wheel(built: Built) -> None:
    """Subpackages and data files (py.typed, templates) included, by comparison with the tree."""
    names = wheel_names(built)
    expected = {
        f"ibguard/{path.relative_to(built.source).as_posix()}"
        for part in PARTS
        for path in (built.source / part).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected - names == set()
    for part in PARTS:
        assert f"ibguard/{part}/py.typed" in names


def test_every_source_package_is_listed_for_setuptools(built: Built) -> None:
    listed = set(pyproject(built.source)["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(("ibguard", *init.parent.relative_to(built.source).parts))
        for part in PARTS
        for init in (built.source / part).rglob("__init__.py")
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_the_sdist_holds_what_the_wheel_is_built_from(built: Built) -> None:
    with tarfile.open(built.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "LICENSE", "kit/cli.py", "kit/plugin.py"} <= names


def test_metadata_has_the_one_version_and_both_entry_points(built: Built) -> None:
    version = pyproject(built.source)["project"]["version"]
    with zipfile.ZipFile(built.wheel) as archive:
        metadata = Parser().parsestr(archive.read(f"ibguard-{version}.dist-info/METADATA").decode())
        entry_points = archive.read(f"ibguard-{version}.dist-info/entry_points.txt").decode()
    assert metadata["Version"] == version
    assert re.search(r"\[console_scripts\]\s+ibguard = ibguard\.kit\.cli:main", entry_points)
    assert re.search(r"\[pytest11\]\s+ibguard = ibguard\.kit\.plugin", entry_points)


def test_the_installed_command_answers_help_and_version(venv: Venv, built: Built) -> None:
    helped = venv.run(venv.bin / "ibguard", "--help", cwd=venv.root)
    assert helped.returncode == 0, helped.stderr
    assert "check" in helped.stdout
    version = pyproject(built.source)["project"]["version"]
    shown = venv.run(venv.bin / "ibguard", "--version", cwd=venv.root)
    assert shown.stdout.strip() == f"ibguard {version}"


def test_the_installed_check_passes_a_clean_repo_and_fails_a_violation(
    venv: Venv, tmp_path: Path
) -> None:
    repo = write(tmp_path / "repo", PROJECT)
    (repo / "pyproject.toml").write_text(CONFIG, encoding="utf-8")
    clean = venv.run(venv.bin / "ibguard", "check", cwd=repo)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    write(repo, ENGINE_VIOLATION)
    broken = venv.run(venv.bin / "ibguard", "check", "--no-cache", cwd=repo)
    assert broken.returncode == 1
    assert "BOUNDARY-02" in broken.stdout
    assert "CONTRACT-BROKER-BOUNDARY" in broken.stdout


def test_pytest_in_the_venv_loads_the_plugin_through_its_entry_point(
    venv: Venv, tmp_path: Path
) -> None:
    repo = write(tmp_path / "repo", PROJECT)
    (repo / "pyproject.toml").write_text(CONFIG, encoding="utf-8")
    (repo / "test_plugin_loaded.py").write_text(
        "import pytest\n\n\n"
        "def test_loaded(pytestconfig: pytest.Config) -> None:\n"
        '    plugin = pytestconfig.pluginmanager.get_plugin("ibguard")\n'
        '    assert plugin is not None and plugin.__name__ == "ibguard.kit.plugin"\n'
        '    assert "site-packages" in plugin.__file__\n',
        encoding="utf-8",
    )
    result = venv.run(venv.python, "-m", "pytest", "-p", "no:cacheprovider", "-q", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
