"""`ibguard matrix`: run the 30-case matrix against an engine and report it.

Runs the same pytest items as the plugin (one implementation of the cases), in-process,
isolated from the project's own pytest configuration; reads the project's `[tool.ibguard]`
(subject, xfail, capabilities) when there is one. Exit 0 iff no case failed unexpectedly,
1 otherwise, 2 on a usage or configuration error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

from ibguard.kit.matrix.catalog import CASES
from ibguard.kit.matrix.drivers import DEFAULT_DRIVER, DRIVERS
from ibguard.kit.matrix.render import render_json, render_markdown, render_table
from ibguard.kit.matrix.results import CaseResult

__all__ = ["configure", "run"]

FORMATS = ("table", "json", "junit", "markdown")


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
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="pyproject.toml with [tool.ibguard] (default: nearest one upwards)",
    )


def _fail(message: str) -> int:
    sys.stderr.write(f"ibguard matrix: error: {message}\n")
    return 2


def _config(path: Path | None) -> Path | None:
    if path is not None:
        return path
    for folder in (Path.cwd(), *Path.cwd().parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "[tool.ibguard" in candidate.read_text(encoding="utf-8"):
            return candidate
    return None


def run(args: argparse.Namespace) -> int:
    import pytest
    from ibguard.errors import ConfigError
    from ibguard.kit.matrix.drivers import UnknownDriver, make_driver
    from ibguard.kit.matrix.settings import load_matrix_settings, load_subject_factory

    started = time.perf_counter()
    config = _config(args.config)
    if config is not None and not config.is_file():
        return _fail(f"config file {config} does not exist; pass an existing pyproject.toml")
    try:
        settings = load_matrix_settings(config)
        load_subject_factory(
            args.subject or settings.subject, config.parent if config is not None else None
        )
        driver = args.driver or settings.driver
        make_driver(driver).close()
    except (ConfigError, UnknownDriver) as error:
        return _fail(str(error))
    with tempfile.TemporaryDirectory(prefix="ibguard-matrix-") as folder:
        work = Path(folder)
        (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        json_path, junit_path = work / "results.json", work / "junit.xml"
        argv = [
            "-c",
            str(work / "pytest.ini"),
            "--rootdir",
            str(work),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--ibguard-matrix",
            "--ibguard-json",
            str(json_path),
            "--junitxml",
            str(junit_path),
            "-o",
            "junit_family=xunit2",
        ]
        if config is not None:
            argv += ["--ibguard-config", str(config)]
        if args.subject:
            argv += ["--ibguard-subject", args.subject]
        if args.driver:
            argv += ["--ibguard-driver", args.driver]
        if args.keyword:
            argv += ["-k", args.keyword]
        argv.append(str(work))
        noise = io.StringIO()
        with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise):
            code = pytest.main(argv)
        if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR) or (
            not json_path.is_file()
        ):
            lines = [ln for ln in noise.getvalue().splitlines() if "ibguard" in ln or "rror" in ln]
            return _fail(lines[-1] if lines else f"pytest could not run the matrix (exit {code})")
        data = json.loads(json_path.read_text(encoding="utf-8"))
        results = [
            CaseResult(
                id=d["id"],
                result=d["result"],
                duration_s=d["duration_s"],
                code=d.get("code", ""),
                reason=d.get("reason", ""),
                figures=d.get("figures", {}),
            )
            for d in data
        ]
        if not results and args.keyword:
            known = ", ".join(c.id for c in CASES[:3])
            return _fail(f"-k {args.keyword!r} matches no case; use case ids such as {known}")
        report = {
            "table": render_table,
            "json": render_json,
            "markdown": render_markdown,
        }.get(args.output_format)
        text = report(results) if report else junit_path.read_text(encoding="utf-8")
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    elapsed = time.perf_counter() - started
    sys.stderr.write(f"ibguard matrix: driver {driver}, {len(results)} cases in {elapsed:.1f} s\n")
    return 1 if any(r.unexpected for r in results) else 0
