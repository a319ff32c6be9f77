"""`ibguard init [PATH] [--force]`: set ibguard up in an existing repository.

Proposes the connector and engine globs from the modules that import the broker library
(`ibguard.kit.init.proposal`), then writes, each only when absent unless --force:
`[tool.ibguard]` and the import-linter contracts in pyproject.toml, the ibguard hooks in
.pre-commit-config.yaml, a workflow calling the reusable gate, and a subject skeleton
(`ibguard.kit.init.files`). Prints what it found and one line per file. Running it twice
changes nothing. Exit 0 done, 2 usage error (one line on stderr: what is wrong, what to do).
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ibguard.kit.init.files import SUBJECT_FILE, Target, write_all
from ibguard.kit.init.proposal import InitError, propose

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", type=Path, default=Path("."), help="the repository (default: here)"
    )
    parser.add_argument("--force", action="store_true", help="replace what an earlier init wrote")


def _version() -> str:
    try:
        return version("ibguard")
    except PackageNotFoundError:  # a source tree that was never installed
        raise InitError(
            "ibguard is not installed, so there is no release to pin; pip install ibguard"
        ) from None


def run(args: argparse.Namespace) -> int:
    root: Path = args.path
    if not root.is_dir():
        sys.stderr.write(f"ibguard init: error: {root} is not a folder; pass a repository\n")
        return 2
    try:
        target = Target(root, _version(), args.force)
        proposal = propose(root)
        lines = write_all(target, proposal)
    except InitError as error:
        sys.stderr.write(f"ibguard init: error: {error}\n")
        return 2
    out = [
        f"found {', '.join(proposal.libraries)} imported by {', '.join(proposal.importers)}",
        f"connector: {', '.join(proposal.connector_globs)}",
        f"engine:    {', '.join(proposal.engine_globs)}",
        *lines,
        *(f"note: {note}" for note in proposal.notes),
        f"next: review the globs, fill in {SUBJECT_FILE}, then run `ibguard check` "
        "and `python -m pytest`",
    ]
    sys.stdout.write("\n".join(out) + "\n")
    return 0
