"""The gate cannot be switched off by a typo, and a broken pyproject is one line, not a
traceback, in every pytest run of a project where ibguard is installed."""

from __future__ import annotations

import pytest


def _usage_error(pytester: pytest.Pytester, pyproject: bytes, name: str = "pyproject") -> str:
    (pytester.path / f"{name}.toml").write_bytes(pyproject)
    pytester.makepyfile(test_unit="def test_unit():\n    pass\n")
    given = ["--ibguard-config", f"{name}.toml"] if name != "pyproject" else []
    result = pytester.runpytest("-p", "no:cacheprovider", *given)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if "ibguard" in line]
    assert len(errors) == 1, result.errlines
    assert not any("Traceback" in line for line in result.errlines)
    return errors[0]


@pytest.mark.parametrize(
    ("pyproject", "named"),
    [
        (b'[tool.ibguard.coverag]\n"teampkg" = 100\n', "'coverage'"),
        (b'[tool.ibguard]\ndrivr = "inprocess"\n', "'driver'"),
        (b"[tool.ibguard]\ncase-timeout = -1\n", "case-timeout"),
        (b'[tool.ibguard]\ncases = "seed-31"\n', "seed-30"),
        (b'[tool.ibguard]\ncases = ["CONN-01", "NOPE-01"]\n', "NOPE-01"),
    ],
    ids=["misspelt-coverage-table", "misspelt-driver", "bad-timeout", "bad-set", "bad-case-id"],
)
def test_typo_is_a_usage_error_naming_the_key(
    pytester: pytest.Pytester, pyproject: bytes, named: str
) -> None:
    assert named in _usage_error(pytester, pyproject)


@pytest.mark.parametrize(
    "pyproject",
    [b"tool = 5\n", b'tool = "x"\n', b"[tool]\nibguard = 3\n", b"[tool.ibguard]\n\xff = 1\n"],
    ids=["tool-int", "tool-string", "ibguard-int", "not-utf8"],
)
def test_broken_pyproject_is_one_line(pytester: pytest.Pytester, pyproject: bytes) -> None:
    # given with --ibguard-config: pytest 9 itself cannot start next to such a pyproject.toml
    _usage_error(pytester, pyproject, name="team")
