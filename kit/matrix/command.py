"""`ibguard matrix`: run the execution matrix against an engine and report it; `--list`
prints the catalog.

Runs the same pytest items as the plugin (one implementation of the cases): pytest is driven
in process with a `MatrixPlugin` object handed to `pytest.main`, isolated from the project's
own pytest configuration (no ini file, no conftest, no entry-point plugins), and the results
come back as objects from that plugin. Reads the project's `[tool.ibguard]` (subject, driver,
xfail, capabilities, cases, case-timeout) when there is one. Exit 0 iff no case failed
unexpectedly, 1 otherwise, 2 on a usage or configuration error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

from ibguard.kit.matrix.catalog import CASE_SETS, CASES
from ibguard.kit.matrix.drivers import DEFAULT_DRIVER, DRIVERS
from ibguard.kit.matrix.render import render_json, render_junit, render_markdown, render_table

__all__ = ["configure", "run"]

FORMATS = ("table", "json", "junit", "markdown")
_RENDERERS = {
    "table": render_table,
    "json": render_json,
    "markdown": render_markdown,
    "junit": render_junit,
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--subject",
        metavar="MODULE:FACTORY",
        default=None,
        help="the engine's subject (default: [tool.ibguard] subject, else the reference engine)",
    )
    parser.add_argument(
        "--driver",
        choices=DRIVERS,
        default=None,
        help="the fake TWS gateway or an in-process port "
        f"(default: [tool.ibguard] driver, else {DEFAULT_DRIVER})",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", dest="output_format")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the report to FILE instead of standard output",
    )
    parser.add_argument(
        "-k",
        dest="keyword",
        default=None,
        metavar="EXPR",
        help="only cases matching this pytest -k expression, e.g. 'CONN or LIFE'",
    )
    parser.add_argument(
        "--cases",
        choices=tuple(CASE_SETS),
        default=None,
        help="the case set to run (default: [tool.ibguard] cases, else every case)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="pyproject.toml with [tool.ibguard] (default: nearest one upwards)",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        dest="list_cases",
        help="print the catalog (ids, variants, category, name, cost, in the configured set) "
        "and exit",
    )


def _fail(message: str) -> int:
    sys.stderr.write(f"ibguard matrix: error: {message}\n")
    return 2


def _config(path: Path | None) -> Path | None:
    from ibguard.rules.settings import nearest_config

    return path if path is not None else nearest_config(Path.cwd())


def catalog_listing(gate: tuple[str, ...]) -> str:
    """The catalog as a table: id, variants, category, name, cost, and whether the gate
    (the configured case set) runs it; then the case sets."""
    rows = [("id", "variants", "category", "name", "cost", "in gate")]
    rows += [
        (
            c.id,
            ", ".join(c.variants) or "-",
            c.category,
            c.name,
            c.cost,
            "yes" if c.id in gate else "no",
        )
        for c in CASES
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    tests = sum(len(c.test_ids) for c in CASES)
    sets = ", ".join(f"{name} ({len(ids)})" for name, ids in CASE_SETS.items())
    lines.append(f"{len(CASES)} cases, {tests} tests with their variants; case sets: {sets}")
    return "\n".join(lines) + "\n"


def _argv(args: argparse.Namespace) -> list[str]:
    argv = [
        "-c",
        os.devnull,  # no ini file: the project's own pytest settings do not apply
        "--rootdir",
        str(Path.cwd()),
        "--noconftest",
        "-p",
        "no:ibguard",  # the entry-point plugin; this command hands pytest its own object
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-p",
        "no:cov",
    ]
    if args.keyword:
        argv += ["-k", args.keyword]
    return argv


def run(args: argparse.Namespace) -> int:
    import pytest
    from ibguard.errors import ConfigError
    from ibguard.kit.matrix.drivers import UnknownDriver, make_driver
    from ibguard.kit.matrix.pytest_items import MatrixPlugin, MatrixRun
    from ibguard.kit.matrix.settings import load_matrix_settings, load_subject_factory

    started = time.perf_counter()
    try:
        config = _config(args.config)
        if config is not None and not config.is_file():
            return _fail(f"config file {config} does not exist; pass an existing pyproject.toml")
        settings = load_matrix_settings(config)
        if args.list_cases:
            sys.stdout.write(
                catalog_listing(CASE_SETS[args.cases] if args.cases else settings.cases)
            )
            return 0
        factory = load_subject_factory(
            args.subject or settings.subject, config.parent if config is not None else None
        )
        driver = args.driver or settings.driver
        make_driver(driver).close()
    except (ConfigError, UnknownDriver) as error:
        return _fail(str(error))
    matrix = MatrixPlugin(
        MatrixRun(
            factory,
            lambda: make_driver(driver),
            settings.capabilities,
            dict(settings.xfail),
            cases=CASE_SETS[args.cases] if args.cases else settings.cases,
            case_timeout=settings.case_timeout,
        ),
        matrix_only=True,
    )
    noise = io.StringIO()  # pytest's own terminal output; this command prints its report
    with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise):
        code = pytest.main(_argv(args), plugins=[matrix])
    if matrix.problems:
        return _fail(matrix.problems[-1])
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        return _fail(f"pytest could not run the matrix (exit {int(code)})")
    results = matrix.case_results()
    if not results and args.keyword:
        known = ", ".join(c.id for c in CASES[:3])
        return _fail(f"-k {args.keyword!r} matches no case; use case ids such as {known}")
    text = _RENDERERS[args.output_format](results)
    if args.output is not None:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as error:
            return _fail(f"cannot write {args.output} ({error.strerror}); pick a writable path")
    else:
        sys.stdout.write(text)
    elapsed = time.perf_counter() - started
    sys.stderr.write(f"ibguard matrix: driver {driver}, {len(results)} cases in {elapsed:.1f} s\n")
    return 1 if any(r.unexpected for r in results) else 0
