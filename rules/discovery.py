"""Which files are checked, as what (engine or connector), and under which module name.

Globs are matched against POSIX paths relative to the settings' root; `**` spans folders,
`*` and `?` stay inside one. A file matched by both sides counts as connector (the narrower
glob, in practice). Module names strip a leading `src/` and follow setuptools' package-dir
mapping (`engine/x.py` -> `ibguard.engine.x` in this repo).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from ibguard.rules.base import Target
from ibguard.rules.settings import Settings

__all__ = ["SourceFile", "discover", "glob_matches", "module_name"]

_SKIPPED_DIRS: Final = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        "build",
        "dist",
        ".ibguard-cache",
        ".tox",
    }
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    relative: str  # POSIX, relative to the root
    target: Target
    module: str
    is_package: bool


@cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_matches(relative: str, patterns: Iterable[str]) -> bool:
    return any(_glob_regex(p.lstrip("./")).match(relative) for p in patterns)


def module_name(relative: str, package_dirs: dict[str, str] | None = None) -> tuple[str, bool]:
    """(dotted module name, is it a package's __init__) for a root-relative .py path."""
    parts = relative[: -len(".py")].split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    for folder, prefix in sorted((package_dirs or {}).items(), key=lambda kv: -len(kv[0])):
        folder_parts = folder.split("/")
        if folder and parts[: len(folder_parts)] == folder_parts:
            return ".".join([prefix, *parts[len(folder_parts) :]]), is_package
    if parts and parts[0] == "src":
        parts = parts[1:]
    return ".".join(parts), is_package


def _walk_roots(settings: Settings) -> list[Path]:
    roots = set()
    for pattern in (*settings.engine, *settings.connector):
        literal = []
        for part in pattern.lstrip("./").split("/"):
            if any(ch in part for ch in "*?["):
                break
            literal.append(part)
        roots.add(settings.root.joinpath(*literal))
    return sorted(roots)


def _walk(top: Path) -> Iterator[Path]:
    if top.is_file():
        yield top
        return
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(folder, name)


def classify(path: Path, settings: Settings) -> SourceFile | None:
    try:
        relative = path.resolve().relative_to(settings.root).as_posix()
    except ValueError:  # outside the project: not ours to check
        return None
    if glob_matches(relative, settings.exclude):
        return None
    if glob_matches(relative, settings.connector):
        target = Target.CONNECTOR
    elif glob_matches(relative, settings.engine):
        target = Target.ENGINE
    else:
        return None
    module, is_package = module_name(relative, dict(settings.package_dirs))
    return SourceFile(path.resolve(), relative, target, module, is_package)


def discover(settings: Settings, paths: Sequence[Path] = ()) -> list[SourceFile]:
    """Engine and connector files under the globs, or among `paths` when given."""
    candidates: Iterable[Path]
    if paths:
        candidates = (p for given in paths for p in _walk(given))
    else:
        candidates = (p for top in _walk_roots(settings) for p in _walk(top))
    found: dict[str, SourceFile] = {}
    for path in candidates:
        source = classify(path, settings)
        if source is not None:
            found[source.relative] = source
    return [found[key] for key in sorted(found)]
