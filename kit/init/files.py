"""Writing what `ibguard init` proposes: each file or table only when absent, unless forced.

Every writer returns one line for the user: `wrote`, `appended`, `replaced` or `kept` and the
path. pyproject.toml gets `[tool.ibguard]` and the import-linter contracts appended (with
--force, the previous `[tool.ibguard*]` and `[tool.importlinter*]` tables are cut out first);
.pre-commit-config.yaml gets the ibguard entry added to its `repos:` list, never replacing
other hooks; the workflow goes to the git repository's root.
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


def write_pyproject(target: Target, proposal: Proposal) -> list[str]:
    path = target.root / "pyproject.toml"
    present = [name for name in ("ibguard", "importlinter") if name in _tool(path)]
    if present and not target.force:
        return [
            f"kept     pyproject.toml [tool.{name}] (exists; --force replaces it)"
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
    path.write_text(text + ibguard_table(proposal) + "\n" + contracts, encoding="utf-8")
    verb = "replaced" if present else "wrote   "
    return [f"{verb} pyproject.toml [tool.ibguard] and [tool.importlinter] contracts"]


def _tool(path: Path) -> dict[str, Any]:
    tool = _read_toml(path).get("tool", {})
    return tool if isinstance(tool, dict) else {}


def write_pre_commit(target: Target) -> str:
    path = target.root / ".pre-commit-config.yaml"
    shown = ".pre-commit-config.yaml (ibguard-check, ibguard-contracts)"
    if not path.is_file():
        entry = fill(PRE_COMMIT_ENTRY, indent="  ", rev=f"v{target.version}")
        path.write_text("repos:\n" + entry, encoding="utf-8")
        return f"wrote    {shown}"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if any("ibguard-check" in line for line in lines):
        return "kept     .pre-commit-config.yaml (already runs ibguard)"
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
    path.write_text("".join(lines), encoding="utf-8")
    return f"appended {shown}"


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


def _write_new(target: Target, path: Path, text: str, what: str) -> str:
    shown = os.path.relpath(path, target.root)
    if path.exists() and not target.force:
        return f"kept     {shown} (exists; --force replaces it)"
    verb = "replaced" if path.exists() else "wrote   "
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return f"{verb} {shown} ({what})"


def write_workflow(target: Target) -> str:
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
    return _write_new(target, repo / WORKFLOW_FILE, text, "calls the ibguard gate")


def write_subject(target: Target, proposal: Proposal) -> str:
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
    return _write_new(
        target, target.root / SUBJECT_FILE, text, "subject skeleton: fill in the methods"
    )


def write_all(target: Target, proposal: Proposal) -> list[str]:
    return [
        *write_pyproject(target, proposal),
        write_pre_commit(target),
        write_workflow(target),
        write_subject(target, proposal),
    ]
