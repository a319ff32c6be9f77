"""Config fuzz: hypothesis-generated pyproject.toml files through every reader of
[tool.ibguard] (check's settings, the plugin's settings, `ibguard check`, `ibguard matrix`).

Every reader must answer with settings or one ConfigError line (exit 2 for the commands),
never a traceback, whatever the file holds: unknown and misspelt keys, wrong types, huge or
non-finite numbers, a non-table `tool`, odd `package-dir`, invalid TOML, non-UTF-8 bytes,
deep nesting. The test prints its counts.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibguard.errors import ConfigError
from ibguard.kit.cli import main
from ibguard.kit.matrix.settings import load_matrix_settings
from ibguard.rules.settings import SCHEMA, load_settings

pytestmark = pytest.mark.untraced  # runs no engine code: nothing to trace (tests/conftest.py)

EXAMPLES = 1000

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    _text,
    st.sampled_from(["seed-30", "all", "wire", "inprocess", "*.py", "**/*.py", "CONN-01", "x:y"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=8,
)
_keys = st.one_of(
    st.sampled_from(sorted(SCHEMA)),
    st.sampled_from(["coverag", "drivr", "engines", "case_timeout", "Subject", "gate"]),
    _text,
)
_ibguard = st.dictionaries(_keys, _values, max_size=6)
_valid = st.fixed_dictionaries(
    {"engine": st.sampled_from([["*.py"], ["**/*.py"], ["engine.py"], ["nope/*.py"]])},
    optional={
        "cache": st.booleans(),
        "driver": st.sampled_from(["wire", "inprocess", "tcp"]),
        "cases": st.sampled_from(["seed-30", "all", "seed-31", ["CONN-01"], ["NOPE-01"]]),
        "case-timeout": st.one_of(st.floats(), st.integers()),
        "xfail": st.dictionaries(st.sampled_from(["CONN-01", "X-1"]), _text, max_size=2),
        "coverage": st.dictionaries(_text, st.one_of(st.integers(), st.floats()), max_size=2),
        "capabilities": st.lists(st.sampled_from(["flatten", "restart", "log_records", "x"])),
    },
)
_documents = st.one_of(
    st.builds(lambda t: {"tool": {"ibguard": t}}, _valid),
    st.builds(lambda t: {"tool": {"ibguard": t}}, _ibguard),
    st.builds(
        lambda t, pd: {"tool": {"ibguard": t, "setuptools": {"package-dir": pd}}},
        _ibguard,
        _values,
    ),
    st.builds(lambda tool: {"tool": tool}, _values),
    st.builds(lambda t: {"tool": {"ibguard": t}}, _values),
)


def _toml(value: Any) -> str:
    """`value` as a TOML inline value (every document here is one top-level table)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


def _document(data: dict[str, Any]) -> bytes:
    return "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in data.items()).encode()


_raw = st.one_of(
    _documents.map(_document),
    st.binary(max_size=64).map(lambda b: b"[tool.ibguard]\nengine = ['" + b + b"']\n"),
    st.sampled_from(
        [
            b"[tool.ibguard\n",
            b"tool = 5\n",
            b'tool = "x"\n',
            b"\xff\xfe[tool.ibguard]\n",
            b"[tool.setuptools]\npackage-dir = ['src']\n[tool.ibguard]\nengine = ['*.py']\n",
            b"[tool.ibguard]\nx = " + b"[" * 5000 + b"]" * 5000 + b"\n",
        ]
    ),
)


def _command(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def test_no_config_makes_any_reader_raise_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "engine.py").write_text("x = 1\n")
    config = tmp_path / "pyproject.toml"
    counts: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_raw)
    def one_config(raw: bytes) -> None:
        config.write_bytes(raw)
        counts["configs"] += 1
        for name, read in (
            ("check settings", load_settings),
            ("plugin settings", load_matrix_settings),
        ):
            problem = None
            try:
                read(config)
            except ConfigError as error:
                problem = str(error)
            assert problem is None or "\n" not in problem
            counts[f"{name}: {'ok' if problem is None else 'error'}"] += 1
        for name, argv in (
            ("ibguard check", ["check", "--config", str(config), "--no-contracts", "--no-cache"]),
            ("ibguard matrix", ["matrix", "--config", str(config), "--list"]),
        ):
            code, err = _command(argv)
            assert code in (0, 1, 2), (name, code, err)
            assert "Traceback" not in err
            if code == 2:
                assert err.count("\n") == 1, err
            counts[f"{name}: exit {code}"] += 1

    one_config()
    with capsys.disabled():
        print(f"\nconfig fuzz: {counts['configs']} configs, 0 tracebacks")
        for key in sorted(k for k in counts if k != "configs"):
            print(f"  {key}: {counts[key]}")
    assert counts["configs"] >= EXAMPLES
    assert counts["check settings: ok"]
    assert counts["check settings: error"]
