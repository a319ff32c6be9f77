"""The boundary `ibguard init` proposes, read from which modules import the broker library.

The connector is each importing module, or its package when every module of that package
imports the broker (a package `__init__` importing it makes the package the connector).
The engine is the top-level package around the connector minus the connector, in globs that
do not overlap the connector's (discovery has no negation: the folders on the way to the
connector contribute their own `*.py`, or their files one by one). Files are found by
`ibguard.rules.discovery` (same skipped folders, same module names); tests, docs and
examples are left out, since they may import the broker for their own reasons, and folders of
scripts (no `__init__.py`, outside `src/`) that import it are proposed as `exclude`.

The engine-isolation and connector-internals contracts leave out of the engine core the shell:
modules named `__main__`, `main` or `service`, and modules importing asyncio, socket,
threading or time; they are listed with the reason, for the team to review.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ibguard.rules.broker_api import DEFAULT_BROKER_LIBRARIES
from ibguard.rules.discovery import SourceFile, discover, glob_matches
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
_IO_LIBRARIES: Final = ("asyncio", "socket", "threading", "time")
_SHELL_NAMES: Final = frozenset({"__main__", "main", "service"})


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
    exclude_globs: tuple[str, ...] = ()  # folders of scripts importing the broker
    shell: tuple[tuple[str, str], ...] = ()  # (module, why) left out of the engine core


def broker_imports(path: Path, libraries: Sequence[str]) -> set[str]:
    """The libraries `path` imports (`import`, `from`, `import_module("...")`)."""
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


def _script_folder(source: SourceFile, root: Path) -> str | None:
    """The topmost folder of scripts around `source` (no `__init__.py`), None in a package."""
    parts = source.relative.split("/")[:-1]
    if not parts or parts[0] == "src" or (root.joinpath(*parts) / "__init__.py").is_file():
        return None
    while len(parts) > 1 and not (root.joinpath(*parts[:-1]) / "__init__.py").is_file():
        parts = parts[:-1]
    return "/".join(parts)


def _engine_globs(top: str, files: Sequence[SourceFile], connectors: Sequence[str]) -> list[str]:
    """Globs covering the .py files under folder `top`, none matching a connector glob."""

    def is_connector(relative: str) -> bool:
        return glob_matches(relative, connectors)

    inside = [f.relative for f in files if f.relative.startswith(top + "/")]
    if not any(is_connector(r) for r in inside):
        return [f"{top}/**/*.py"]
    own = [r for r in inside if "/" not in r[len(top) + 1 :]]
    globs = []
    if own and not any(is_connector(r) for r in own):
        globs.append(f"{top}/*.py")
    else:
        globs.extend(r for r in own if not is_connector(r))
    subfolders = sorted({r[len(top) + 1 :].split("/")[0] for r in inside if r not in own})
    for sub in subfolders:
        folder = f"{top}/{sub}"
        if f"{folder}/**/*.py" not in connectors:
            globs.extend(_engine_globs(folder, files, connectors))
    return globs


def _shell(files: Sequence[SourceFile], package: str, connector: str) -> list[tuple[str, str]]:
    """(module, why) for the modules of `package` that are not engine core."""
    found: list[tuple[str, str]] = []
    for source in files:
        module = source.module
        if not module.startswith(package + "."):  # the top package itself stays core
            continue
        if module == connector or module.startswith(connector + "."):
            continue
        if any(module.startswith(m + ".") for m, _ in found):
            continue
        io = sorted(broker_imports(source.path, _IO_LIBRARIES))
        if io:
            why = f"imports {', '.join(io)}"
        elif module.rpartition(".")[2] in _SHELL_NAMES and not source.is_package:
            why = "entry point or service"
        else:
            continue
        if source.is_package:
            why += "; a package: all of it"
        found.append((module, f"{why}: shell, not engine core (review)"))
    return found


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
    scripts = {s.relative: _script_folder(s, root) for s in importers}
    in_packages = [s for s in importers if scripts[s.relative] is None]
    loose = [s.relative for s in in_packages if "." not in s.module and not s.is_package]
    if loose or not in_packages:
        shown = loose or [s.relative for s in importers]
        raise InitError(
            f"the broker library is imported by top-level modules or scripts only "
            f"({', '.join(shown)}); put the engine in a package, then run init again"
        )
    excluded = sorted({f"{folder}/**" for folder in scripts.values() if folder})
    importing = {s.relative for s in importers}
    candidates: dict[str, str] = {}  # connector glob -> module
    for source in in_packages:
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
    if excluded:
        notes.append(
            f"scripts importing the broker are left unchecked ({', '.join(excluded)} in "
            "exclude); move any that trade into the package, behind the connector"
        )
    connector_globs = sorted(g for g, m in candidates.items() if m not in inner)
    tops_folders = sorted({_top_folder(s) for s in in_packages})
    engine_globs = [g for top in tops_folders for g in _engine_globs(top, files, connector_globs)]
    shell = _shell(files, tops[0], common)
    if shell:
        notes.append(
            f"left out of the engine core (the contracts' exclude, with the reason): "
            f"{', '.join(m for m, _ in shell)}; review it"
        )
    return Proposal(
        libraries=tuple(sorted(libraries)),
        importers=tuple(sorted(importing)),
        root_package=tops[0],
        engine_globs=tuple(sorted(set(engine_globs))),
        connector_globs=tuple(connector_globs),
        connector_module=common,
        notes=tuple(notes),
        exclude_globs=tuple(excluded),
        shell=tuple(shell),
    )
