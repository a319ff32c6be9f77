"""The `ibguard` command: one dispatcher, each subcommand in the module that owns it.

A subcommand module exposes `configure(parser)` and `run(args) -> int`. Exit codes are
the same everywhere: 0 clean, 1 findings or failures, 2 usage or configuration error.
Errors print as one line saying what is wrong and how to fix it.

Only the chosen subcommand's module is imported (`ibguard --help` imports none of them, and
`ibguard check` none of the matrix, gateway or engine), so start-up stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["SUBCOMMANDS", "main"]

# name -> (module, one-line help). Only the chosen subcommand's module is imported.
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


class _VersionAction(argparse.Action):
    """`--version`, reading the installed version only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("ibguard")
        except PackageNotFoundError:  # running from a source tree that was never installed
            found = "unknown"
        print(f"ibguard {found}")  # on stdout, as argparse's own version action does
        parser.exit()


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ibguard",
        description="Execution-layer compliance kit for Interactive Brokers engines.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        if name == chosen:
            importlib.import_module(module_name).configure(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # The subcommand is the first argument that is not an option (the top level's options,
    # -h and --version, take no value).
    chosen = next((a for a in arguments if not a.startswith("-")), None)
    parser = _parser(chosen)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(args._module)
    code: int = module.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
