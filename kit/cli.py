"""The `ibguard` command: one dispatcher, each subcommand in the module that owns it.

A subcommand module exposes `configure(parser)` and `run(args) -> int`. Exit codes are
the same everywhere: 0 clean, 1 findings or failures, 2 usage or configuration error.
Errors print as one line saying what is wrong and how to fix it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

__all__ = ["SUBCOMMANDS", "main"]

# name -> (module, one-line help). Every module is imported to build the parser, so each
# keeps its module-level imports light and imports heavy dependencies inside run().
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "engine": ("ibguard.kit.engine_command", "Run the reference engine as a service."),
    "matrix": ("ibguard.kit.matrix.command", "Run the execution matrix against an engine."),
    "check": (
        "ibguard.rules.command",
        "Check the connector/engine boundary: libcst rules and import-linter contracts.",
    ),
    "init": (
        "ibguard.kit.init.command",
        "Set up ibguard in a repo: config, contracts, pre-commit, CI workflow, subject skeleton.",
    ),
    "gateway": (
        "ibguard.kit.gateway.command",
        "Run the fake TWS gateway on 127.0.0.1 for manual testing.",
    ),
}


def _version() -> str:
    try:
        return version("ibguard")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ibguard",
        description="Execution-layer compliance kit for Interactive Brokers engines.",
    )
    parser.add_argument("--version", action="version", version=f"ibguard {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        importlib.import_module(module_name).configure(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(args._module)
    code: int = module.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
