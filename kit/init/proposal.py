"""The boundary `ibguard init` proposes, read from which modules import the broker library.

The connector is each importing module, or its package when every module of that package
imports the broker (a package `__init__` importing it makes the package the connector).
The engine is the top-level package around the connector. Files are found by
`ibguard.rules.discovery` (same skipped folders, same module names); tests, docs and
examples are left out, since they may import the broker for their own reasons.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ibguard.rules.broker_api import DEFAULT_BROKER_LIBRARIES
from ibguard.rules.discovery import SourceFile, discover
from ibguard.rules.settings import Settings

__all__ = ["InitError", "Proposal", "propose"]

_NOT_PRODUCT: Final = (
    "tests/**",
    "test/**",
    "**/tests/**",
    "**/test_*.py",
    "**/*_test.py",
    "**/conftest.py",
    "docs/**",
    "examples/**",
)


class InitError(Exception):
    """Something the user must fix before init can write anything (exit 2)."""


@dataclass(frozen=True, slots=True)
class Proposal:
    libraries: tuple[str, ...]  # broker libraries imported
    importers: tuple[str, ...]  # the files importing them, root-relative POSIX paths
    root_package: str  # the engine's top-level package (import-linter's root)
    engine_globs: tuple[str, ...]
    connector_globs: tuple[str, ...]
    connector_module: str  # dotted, for the contracts
    notes: tuple[str, ...] = ()


def broker_imports(path: Path, libraries: Sequence[str]) -> set[str]:
    """The broker libraries `path` imports (`import`, `from`, `import_module("...")`)."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        found.update(n.split(".")[0] for n in names if n.split(".")[0] in libraries)
    return found


def _folder(source: SourceFile) -> str:
    return source.relative.rpartition("/")[0]


def _package(source: SourceFile) -> str:
    return source.module if source.is_package else source.module.rpartition(".")[0]


def _common_prefix(modules: Sequence[str]) -> str:
    common = modules[0].split(".")
    for module in modules[1:]:
        parts = module.split(".")
        n = 0
        while n < min(len(common), len(parts)) and common[n] == parts[n]:
            n += 1
        common = common[:n]
    return ".".join(common)


def _top_folder(source: SourceFile) -> str:
    """The folder of the top-level package `source` belongs to (`src/app` for src/app/x.py)."""
    folder = _folder(source).split("/")
    depth = len(_package(source).split("."))
    return "/".join(folder[: len(folder) - depth + 1])


def propose(root: Path) -> Proposal:
    root = root.resolve()
    settings = Settings(
        root=root, config_file=root / "pyproject.toml", engine=("**/*.py",), exclude=_NOT_PRODUCT
    )
    files = discover(settings)
    libraries: set[str] = set()
    importers: list[SourceFile] = []
    for source in files:
        found = broker_imports(source.path, DEFAULT_BROKER_LIBRARIES)
        if found:
            libraries |= found
            importers.append(source)
    if not importers:
        raise InitError(
            f"no module here imports {', '.join(DEFAULT_BROKER_LIBRARIES)}; run init in the "
            "repository of an engine that trades through one of them"
        )
    loose = [s.relative for s in importers if "." not in s.module and not s.is_package]
    if loose:
        raise InitError(
            f"the broker library is imported by top-level modules ({', '.join(loose)}); "
            "put the engine in a package, then run init again"
        )
    importing = {s.relative for s in importers}
    candidates: dict[str, str] = {}  # connector glob -> module
    for source in importers:
        siblings = [f for f in files if _folder(f) == _folder(source) and not f.is_package]
        dedicated = "." in _package(source) and all(f.relative in importing for f in siblings)
        if source.is_package or dedicated:
            candidates[f"{_folder(source)}/**/*.py"] = _package(source)
        else:
            candidates[source.relative] = source.module
    modules = set(candidates.values())
    inner = {m for m in modules if any(m.startswith(p + ".") for p in modules)}
    connectors = sorted(modules - inner)
    tops = sorted({m.split(".")[0] for m in connectors})
    notes = []
    if len(tops) > 1:
        notes.append(
            f"the broker library is used from several packages ({', '.join(tops)}); "
            f"the contracts cover {tops[0]} only"
        )
    common = _common_prefix(connectors)
    if "." not in common:
        common = connectors[0]
        notes.append(
            f"the broker library is imported from {len(connectors)} places "
            f"({', '.join(connectors)}); the contracts treat {common} as the connector: "
            "move the others behind it"
        )
    return Proposal(
        libraries=tuple(sorted(libraries)),
        importers=tuple(sorted(importing)),
        root_package=tops[0],
        engine_globs=tuple(sorted({f"{_top_folder(s)}/**/*.py" for s in importers})),
        connector_globs=tuple(sorted(g for g, m in candidates.items() if m not in inner)),
        connector_module=common,
        notes=tuple(notes),
    )
