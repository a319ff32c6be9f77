"""The repo's own hygiene: every mapped package is type-checked and in the import graph,
every `type: ignore` says why, and errors raised by ibguard say whose fault they are."""

from __future__ import annotations

import ast
import builtins
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


# abstract methods, iterator and module __getattr__ protocols: the language's, not a fault
_LANGUAGE_SIGNALS = {
    "AttributeError",
    "NotImplementedError",
    "StopAsyncIteration",
    "StopIteration",
    "SystemExit",
}


def _bare_builtin_raises(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        name = target.id if isinstance(target, ast.Name) else ""
        builtin = getattr(builtins, name, None)
        if (
            isinstance(builtin, type)
            and issubclass(builtin, BaseException)
            and name not in _LANGUAGE_SIGNALS
            # an I/O condition (a dead socket), raised as the real client libraries do
            and not issubclass(builtin, OSError)
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} raises {name}")
    return found


def test_ibguard_raises_its_own_errors_not_bare_builtins() -> None:
    """Each failure is an `ibguard.errors` subclass naming whose fault it is (usage, config,
    broker protocol, internal); those keep the builtin bases, so `except ValueError` still works."""
    found = [
        hit
        for folder in MAPPED.values()
        if folder != "errors"  # the root refuses to be raised itself with a TypeError
        for path in sorted((ROOT / folder).rglob("*.py"))
        for hit in _bare_builtin_raises(path)
    ]
    assert not found, "raise an ibguard.errors subclass instead: " + ", ".join(found)
