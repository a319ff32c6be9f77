"""The repo's own hygiene: every mapped package is type-checked and in the import graph, and
every `type: ignore` says why."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MAPPED = PYPROJECT["tool"]["setuptools"]["package-dir"]
# `# type: ignore[code]` must be followed by `  # why`
_IGNORE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?(?P<rest>.*)$")


def test_every_mapped_package_is_checked_by_bare_mypy() -> None:
    assert set(MAPPED) <= set(PYPROJECT["tool"]["mypy"]["packages"])
    assert PYPROJECT["tool"]["mypy"]["strict"] is True
    for package, folder in MAPPED.items():
        link = ROOT / "typings" / Path(*package.split("."))
        assert link.resolve() == (ROOT / folder).resolve(), f"typings/ has no link for {package}"


def test_every_mapped_package_is_in_the_import_graph() -> None:
    assert set(MAPPED) <= set(PYPROJECT["tool"]["importlinter"]["root_packages"])


def test_every_type_ignore_says_why() -> None:
    unexplained = []
    for folder in MAPPED.values():
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found = _IGNORE.search(line)
                if found and not found["rest"].strip().startswith("#"):
                    unexplained.append(f"{path.relative_to(ROOT)}:{number}")
    assert not unexplained, "add `  # why` after each type: ignore: " + ", ".join(unexplained)
