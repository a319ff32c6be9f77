"""Writing what `ibguard init` proposes: each file or table only when absent, unless forced.

Every planner returns, per file, one line for the user (`wrote`, `appended`, `replaced` or
`kept` and the path) and the text to write, if any. pyproject.toml gets `[tool.ibguard]` and
the import-linter contracts appended (with --force, the previous `[tool.ibguard*]` and
`[tool.importlinter*]` tables are cut out first); .pre-commit-config.yaml gets the ibguard
entry added to its `repos:` list, never replacing other hooks; the workflow goes to the git
repository's root.

Nothing is written until every file is planned and checked (`write_all`): a problem with any
of them (a pyproject that is not valid TOML before or after, a folder where a file belongs, a
symlink leading out of the repository) is an `InitError` and leaves every file as it was.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ibguard.contracts.templates import ibguard_template, importlinter_template
from ibguard.kit.init.proposal import InitError, Proposal
from ibguard.kit.init.templates import PRE_COMMIT_ENTRY, SUBJECT, WORKFLOW, fill
from ibguard.rules.broker_api import DEFAULT_BROKER_LIBRARIES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

__all__ = ["SUBJECT_FILE", "SUBJECT_SPEC", "WORKFLOW_FILE", "Target", "write_all"]

SUBJECT_FILE: Final = "ibguard_subject.py"
SUBJECT_SPEC: Final = "ibguard_subject:make_subject"
WORKFLOW_FILE: Final = ".github/workflows/ibguard.yml"
_OWN_TABLE: Final = re.compile(r"^\s*\[\[?\s*tool\.(ibguard|importlinter)\s*[.\]]")
_ANY_TABLE: Final = re.compile(r"^\s*\[")


@dataclass(frozen=True, slots=True)
class Planned:
    """What init does to one file: the line it prints, and the new text (None: kept)."""

    line: str
    path: Path
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """Where and for what init writes: the project root and the ibguard release to pin."""

    root: Path
    version: str
    force: bool


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InitError(f"{path} is not readable TOML ({error}); fix it first") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise InitError(f"{path}: tool is a {type(tool).__name__}, not a table; fix it first")
    for name in ("ibguard", "importlinter"):
        if not isinstance(tool.get(name, {}), dict):
            kind = type(tool[name]).__name__
            raise InitError(f"{path}: tool.{name} is a {kind}, not a table; fix it first")
    return data


def ibguard_table(proposal: Proposal) -> str:
    driver = "inprocess" if proposal.libraries == ("ibapi",) else "wire"
    return (
        ibguard_template(proposal.engine_globs, proposal.connector_globs, proposal.exclude_globs)
        + f"# The matrix: {SUBJECT_FILE} adapts your engine to the kit.\n"
        + f'subject = "{SUBJECT_SPEC}"\n'
        + f'driver = "{driver}"\n'
        + "\n# Engine coverage gate (line + branch, with pytest-cov): uncomment to enforce it.\n"
        + "# [tool.ibguard.coverage]\n"
        + f'# "{proposal.root_package}" = 100\n'
    )


def _without_own_tables(text: str) -> str:
    kept: list[str] = []
    dropping = False
    for line in text.splitlines(keepends=True):
        if _ANY_TABLE.match(line):
            dropping = bool(_OWN_TABLE.match(line))
        if not dropping:
            kept.append(line)
    rest = "".join(kept).rstrip()
    return rest + "\n" if rest else ""


def plan_pyproject(target: Target, proposal: Proposal) -> list[Planned]:
    path = target.root / "pyproject.toml"
    present = [name for name in ("ibguard", "importlinter") if name in _tool(path)]
    if present and not target.force:
        return [
            Planned(f"kept     pyproject.toml [tool.{name}] (exists; --force replaces it)", path)
            for name in present
        ]
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if present:
        text = _without_own_tables(text)
        if {"ibguard", "importlinter"} & set(tomllib.loads(text).get("tool", {})):
            raise InitError(
                f"{path} sets tool.ibguard or tool.importlinter outside their own tables; "
                "remove them by hand, then run init again"
            )
    contracts = importlinter_template(
        proposal.root_package,
        engine=proposal.root_package,
        connector=proposal.connector_module,
        broker_libraries=DEFAULT_BROKER_LIBRARIES,
        exclude=dict(proposal.shell),
    )
    if text and not text.endswith("\n\n"):
        text += "\n" if text.endswith("\n") else "\n\n"
    text += ibguard_table(proposal) + "\n" + contracts
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InitError(
            f"{path}: adding the ibguard tables would make it invalid TOML ({error}); "
            "fix the file first"
        ) from None
    verb = "replaced" if present else "wrote   "
    line = f"{verb} pyproject.toml [tool.ibguard] and [tool.importlinter] contracts"
    return [Planned(line, path, text)]


def _tool(path: Path) -> dict[str, Any]:
    tool = _read_toml(path).get("tool", {})
    return tool if isinstance(tool, dict) else {}


def plan_pre_commit(target: Target) -> Planned:
    path = target.root / ".pre-commit-config.yaml"
    shown = ".pre-commit-config.yaml (ibguard-check, ibguard-contracts)"
    if not path.exists():
        entry = fill(PRE_COMMIT_ENTRY, indent="  ", rev=f"v{target.version}")
        return Planned(f"wrote    {shown}", path, "repos:\n" + entry)
    if not path.is_file():
        raise InitError(
            ".pre-commit-config.yaml is a folder, not a file; move it away, then run init again"
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except (OSError, UnicodeDecodeError) as error:
        raise InitError(f"{path} is not a readable text file ({error}); fix it first") from None
    if any("ibguard-check" in line for line in lines):
        return Planned("kept     .pre-commit-config.yaml (already runs ibguard)", path)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "repos:"), None)
    if start is None:
        raise InitError(
            f"{path} has no top-level 'repos:' line; add the ibguard hooks by hand (README)"
        )
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(r"[A-Za-z_]", lines[i])),
        len(lines),
    )
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    items = [re.match(r"(\s*)- ", line) for line in lines[start + 1 : end]]
    indent = next((m.group(1) for m in items if m), "  ")
    if not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines.insert(end, fill(PRE_COMMIT_ENTRY, indent=indent, rev=f"v{target.version}"))
    return Planned(f"appended {shown}", path, "".join(lines))


def _git_root(folder: Path) -> Path:
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def _install_command(root: Path) -> str:
    if "project" in _read_toml(root / "pyproject.toml") or (root / "setup.py").is_file():
        return "python -m pip install -e ."
    if (root / "requirements.txt").is_file():
        return "python -m pip install -r requirements.txt"
    return "python -m pip install ib_async"


def _plan_new(target: Target, path: Path, text: str, what: str) -> Planned:
    shown = os.path.relpath(path, target.root)
    if path.exists() and not target.force:
        return Planned(f"kept     {shown} (exists; --force replaces it)", path)
    verb = "replaced" if path.exists() else "wrote   "
    return Planned(f"{verb} {shown} ({what})", path, text)


def plan_workflow(target: Target) -> Planned:
    root = target.root.resolve()
    repo = _git_root(root)
    workdir = root.relative_to(repo).as_posix()
    text = fill(
        WORKFLOW,
        version=target.version,
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        install=_install_command(root),
        working_directory="" if workdir == "." else f"      working-directory: {workdir}\n",
    )
    return _plan_new(target, repo / WORKFLOW_FILE, text, "calls the ibguard gate")


def plan_subject(target: Target, proposal: Proposal) -> Planned:
    library = next(
        (lib for lib in ("ib_async", "ib_insync") if lib in proposal.libraries),
        proposal.libraries[0],
    )
    words = re.split(r"[_.]", proposal.root_package)
    text = fill(
        SUBJECT,
        package=proposal.root_package,
        cls="".join(w.capitalize() for w in words if w) + "Subject",
        library=library,
    )
    return _plan_new(
        target, target.root / SUBJECT_FILE, text, "subject skeleton: fill in the methods"
    )


def _check_writable(target: Target, planned: Planned) -> None:
    """A file init may write: not a folder, and inside the repository even through symlinks
    (--force must never replace a file elsewhere that a symlink in the repo points to)."""
    path = planned.path
    shown = os.path.relpath(path, target.root)
    if path.exists() and not path.is_file():
        raise InitError(f"{shown} is a folder, not a file; move it away, then run init again")
    repo = _git_root(target.root.resolve())
    real = path.resolve()
    if not real.is_relative_to(repo):
        raise InitError(
            f"{shown} leads to {real}, outside the repository; init does not write there: "
            "replace the symlink with a file, or make the change by hand"
        )


def write_all(target: Target, proposal: Proposal) -> list[str]:
    """Plan every file, check every planned write, then write; returns the printed lines."""
    planned = [
        *plan_pyproject(target, proposal),
        plan_pre_commit(target),
        plan_workflow(target),
        plan_subject(target, proposal),
    ]
    writes = [(p, p.text) for p in planned if p.text is not None]
    for p, _ in writes:
        _check_writable(target, p)
    for p, text in writes:
        try:
            p.path.parent.mkdir(parents=True, exist_ok=True)
            p.path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise InitError(f"cannot write {p.path}: {error.strerror or error}") from None
    return [p.line for p in planned]
