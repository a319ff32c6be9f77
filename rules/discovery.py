"""Which files are checked, as what (engine or connector), and under which module name.

Globs are matched against POSIX paths relative to the settings' root; `**` spans folders,
`*` and `?` stay inside one. A file matched by both sides counts as connector (the narrower
glob, in practice). Module names strip a leading `src/` and follow setuptools' package-dir
mapping (`engine/x.py` -> `ibguard.engine.x` in this repo).
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from ibguard.rules.base import Target
from ibguard.rules.findings import Finding
from ibguard.rules.screening import read_error
from ibguard.rules.settings import Settings

__all__ = [
    "SourceFile",
    "discover",
    "discover_all",
    "glob_matches",
    "glob_may_match_under",
    "module_name",
]

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
def _segments(pattern: str) -> tuple[str | re.Pattern[str], ...]:
    """The pattern per folder level: "**" as is, any other level as a regex for one name.

    Runs of "**" collapse into one (`a/**/**/b` is `a/**/b`). A level that mixes `**` with
    other characters (`src/**.py`) spans folders too: it stays a regex where `**` is `.*`.
    """
    levels: list[str | re.Pattern[str]] = []
    for level in pattern.split("/"):
        if level == "**":
            if levels and levels[-1] == "**":
                continue
            levels.append("**")
            continue
        out = []
        i = 0
        while i < len(level):
            if level.startswith("**", i):
                out.append(".*")
                i += 2
            elif level[i] == "*":
                if not out or out[-1] != "[^/]*":  # `a**` aside, `**`-free runs of * are one
                    out.append("[^/]*")
                i += 1
            elif level[i] == "?":
                out.append("[^/]")
                i += 1
            else:
                out.append(re.escape(level[i]))
                i += 1
        levels.append(re.compile("".join(out) + r"\Z"))
    return tuple(levels)


def _states_after(levels: tuple[str | re.Pattern[str], ...], parts: list[str]) -> set[int]:
    """Indexes into `levels` reachable after matching all of `parts` (NFA simulation).

    Linear in len(parts) x len(levels), whatever the pattern: each state is a level index,
    so many `**/` cannot make it backtrack. A state equal to len(levels) means "all matched".
    """

    def closure(states: set[int]) -> set[int]:
        # "**" may match zero levels: being at it is also being past it.
        out = set()
        for first in states:
            state = first
            out.add(state)
            while state < len(levels) and levels[state] == "**":
                state += 1
                out.add(state)
        return out

    states = closure({0})
    for position, part in enumerate(parts):
        following: set[int] = set()
        for state in states:
            if state == len(levels):
                continue
            level = levels[state]
            if level == "**":
                following.add(state)  # "**" takes this name and may take more
            elif isinstance(level, re.Pattern):
                if level.match(part):
                    following.add(state + 1)
                elif (
                    state == len(levels) - 1
                    and ".*" in level.pattern
                    and level.match("/".join(parts[position:]))
                ):
                    # A last level that spans folders (`src/**.py`) takes the rest of the path.
                    return {state, len(levels)}
        states = closure(following)
        if not states:
            break
    return states


def glob_matches(relative: str, patterns: Iterable[str]) -> bool:
    parts = relative.split("/")
    for pattern in patterns:
        levels = _segments(pattern.lstrip("./"))
        if len(levels) in _states_after(levels, parts):
            return True
    return False


def glob_may_match_under(folder: str, patterns: Iterable[str]) -> bool:
    """Could some file below `folder` (root-relative, POSIX) match one of `patterns`?"""
    parts = folder.split("/") if folder else []
    for pattern in patterns:
        levels = _segments(pattern.lstrip("./"))
        if any(state < len(levels) for state in _states_after(levels, parts)):
            return True
    return False


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


def _walk(top: Path, unreadable: list[OSError]) -> Iterator[Path]:
    if top.is_file():
        yield top
        return
    for folder, dirs, files in os.walk(top, onerror=unreadable.append):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(folder, name)


def _relative(path: Path, root: Path) -> str | None:
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link or a loop: keep the link's own path
        resolved = Path(os.path.abspath(path))
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:  # outside the project: not ours to check
        return None


def classify(path: Path, settings: Settings) -> SourceFile | None:
    relative = _relative(path, settings.root)
    if relative is None or glob_matches(relative, settings.exclude):
        return None
    if glob_matches(relative, settings.connector):
        target = Target.CONNECTOR
    elif glob_matches(relative, settings.engine):
        target = Target.ENGINE
    else:
        return None
    module, is_package = module_name(relative, dict(settings.package_dirs))
    return SourceFile(settings.root / relative, relative, target, module, is_package)


def discover(settings: Settings, paths: Sequence[Path] = ()) -> list[SourceFile]:
    """Engine and connector files under the globs, or among `paths` when given."""
    return discover_all(settings, paths)[0]


def discover_all(
    settings: Settings, paths: Sequence[Path] = ()
) -> tuple[list[SourceFile], list[Finding]]:
    """`discover`, and a READ-ERROR (or SYMLINK-LOOP) finding per folder that could not be
    listed and might hold files of the globs: skipping it silently would hide its code."""
    unreadable: list[OSError] = []
    candidates: Iterable[Path]
    if paths:
        candidates = (p for given in paths for p in _walk(given, unreadable))
    else:
        candidates = (p for top in _walk_roots(settings) for p in _walk(top, unreadable))
    found: dict[str, SourceFile] = {}
    for path in candidates:
        source = classify(path, settings)
        if source is not None:
            found[source.relative] = source
    problems: dict[str, Finding] = {}
    globs = (*settings.engine, *settings.connector)
    for error in unreadable:
        if error.errno in (errno.ENOENT, errno.ENOTDIR) or error.filename is None:
            continue  # a glob's folder that does not exist: nothing hidden
        relative = _relative(Path(os.fsdecode(error.filename)), settings.root)
        if relative is not None and glob_may_match_under(relative, globs):
            problems[relative] = read_error(relative, error)
    return [found[key] for key in sorted(found)], [problems[key] for key in sorted(problems)]
