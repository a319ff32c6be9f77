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


def _builtin(node: ast.expr | None) -> type[BaseException] | None:
    target = node.func if isinstance(node, ast.Call) else node
    found = getattr(builtins, target.id, None) if isinstance(target, ast.Name) else None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _caught(handler: ast.ExceptHandler) -> tuple[type[BaseException], ...]:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return tuple(k for k in (_builtin(kind) for kind in kinds if kind is not None) if k)


class _Raises(ast.NodeVisitor):
    """Bare builtin raises that can leave their function: one caught by a handler of the
    `try` around it (control flow inside a parser, say) does not escape."""

    def __init__(self) -> None:
        self.handled: list[tuple[type[BaseException], ...]] = []
        self.found: list[tuple[int, str]] = []

    def visit_Try(self, node: ast.Try) -> None:
        self.handled.append(tuple(k for h in node.handlers for k in _caught(h)))
        for statement in node.body:
            self.visit(statement)
        self.handled.pop()
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.handled = self.handled, []  # a handler outside does not cover a def
        self.generic_visit(node)
        self.handled = outer

    visit_AsyncFunctionDef = visit_FunctionDef  # same walk

    def visit_Raise(self, node: ast.Raise) -> None:
        kind = _builtin(node.exc)
        if (
            kind is not None
            and kind.__name__ not in _LANGUAGE_SIGNALS
            # an I/O condition (a dead socket), raised as the real client libraries do
            and not issubclass(kind, OSError)
            and not any(issubclass(kind, caught) for level in self.handled for caught in level)
        ):
            self.found.append((node.lineno, kind.__name__))


def _bare_builtin_raises(path: Path) -> list[str]:
    raises = _Raises()
    raises.visit(ast.parse(path.read_text(encoding="utf-8")))
    return [f"{path.relative_to(ROOT)}:{line} raises {name}" for line, name in raises.found]


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
