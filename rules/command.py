"""`ibguard check [PATHS...]`: the libcst rules and the import-linter contracts, together.

`--no-contracts` runs the rules only, `--contracts-only` the contracts only (the two pre-commit
hooks split the work this way, so no finding is reported twice). Exit 0 clean, 1 findings,
2 usage or configuration error (one line on stderr: what is wrong, how to fix it). Output goes
to stdout, or to --output FILE.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ibguard.errors import ConfigError
from ibguard.rules import render_github, render_json, render_sarif, render_text
from ibguard.rules.discovery import discover, glob_matches
from ibguard.rules.findings import META_RULES, CheckResult, Finding
from ibguard.rules.registry import RULES
from ibguard.rules.runner import check_project
from ibguard.rules.settings import Settings, find_config, load_settings

__all__ = ["configure", "run"]

FORMATS = ("text", "json", "sarif", "github")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATHS",
        help="files or folders to check (default: the configured globs)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML file with a [tool.ibguard] table (default: the nearest pyproject.toml)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help="write the report here instead of stdout"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="ignore and do not update .ibguard-cache/"
    )
    parser.add_argument(
        "--no-contracts",
        action="store_true",
        help="run the libcst rules only (not with --contracts-only)",
    )
    parser.add_argument(
        "--contracts-only",
        action="store_true",
        help="run the import-linter contracts only, no libcst rules (not with --no-contracts)",
    )
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes (default: CPU count)"
    )


def _fail(message: str) -> int:
    sys.stderr.write(f"ibguard check: error: {message}\n")
    return 2


def _version() -> str:
    try:
        return version("ibguard")
    except PackageNotFoundError:
        return "unknown"


def _contracts(settings: Settings, paths: list[Path]) -> list[Finding]:
    from ibguard.rules.contract_findings import contract_findings

    return contract_findings(settings)


def render(result: CheckResult, output_format: str) -> str:
    if output_format == "json":
        return render_json.render(result)
    if output_format == "github":
        return render_github.render(result)
    if output_format == "sarif":
        descriptions = {rule.id: rule.MESSAGE for rule in RULES} | META_RULES
        return render_sarif.render(result, descriptions, _version())
    return render_text.render(result)


def _unmatched_glob(settings: Settings) -> str | None:
    """The first engine/connector glob that matches no .py file, as an error line: a typo
    there would otherwise check nothing and pass ("0 findings in 0 files")."""
    found = [source.relative for source in discover(settings)]
    for key, patterns in (("engine", settings.engine), ("connector", settings.connector)):
        for pattern in patterns:
            if not any(glob_matches(relative, [pattern]) for relative in found):
                return (
                    f"{settings.config_file} [tool.ibguard]: {key} glob {pattern!r} matches no "
                    f".py file under {settings.root}; fix the glob (relative to that folder)"
                )
    return None


def run(args: argparse.Namespace) -> int:
    if args.no_contracts and args.contracts_only:
        return _fail("--no-contracts and --contracts-only exclude each other; pass one of them")
    try:
        config = args.config if args.config is not None else find_config(Path.cwd())
        if not config.is_file():
            return _fail(f"config file {config} does not exist; pass an existing TOML file")
        settings = load_settings(config)
    except ConfigError as error:
        return _fail(str(error))
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        return _fail(f"no such file or folder: {', '.join(missing)}; pass existing paths")
    unmatched = None if args.paths or args.contracts_only else _unmatched_glob(settings)
    if unmatched is not None:
        return _fail(unmatched)
    if args.jobs is not None and args.jobs < 1:
        return _fail("--jobs must be at least 1")
    with_contracts = settings.contracts and settings.has_importlinter
    if args.contracts_only and not with_contracts:
        return _fail(
            f"--contracts-only, but {settings.config_file} "
            + ("sets contracts = false" if not settings.contracts else "has no [tool.importlinter]")
            + "; add the contracts (ibguard init) or drop --contracts-only"
        )
    try:
        contract_findings = (
            _contracts(settings, args.paths) if with_contracts and not args.no_contracts else []
        )
    except ConfigError as error:
        return _fail(str(error))
    result = check_project(
        settings,
        args.paths,
        rules=() if args.contracts_only else RULES,
        use_cache=not args.no_cache,
        jobs=args.jobs,
        contract_findings=contract_findings,
    )
    report = render(result, args.format)
    if args.output is not None:
        try:
            args.output.write_text(report, encoding="utf-8")
        except OSError as error:
            return _fail(f"cannot write {args.output} ({error.strerror}); pick a writable path")
    else:
        sys.stdout.write(report)
    return 1 if result.findings else 0
