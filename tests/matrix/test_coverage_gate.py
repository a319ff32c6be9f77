"""The coverage gate fails a session whose package is at 99% and passes it at 100%."""

from __future__ import annotations

import pytest

MODULE = "\n".join([f"v{n} = {n}" for n in range(99)] + ["", "def rarely():", "    return 1", ""])
PYPROJECT = """
[tool.ibguard.coverage]
"teampkg" = 100

[tool.coverage.run]
branch = true
"""


@pytest.fixture
def repo(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", pyproject=PYPROJECT)
    package = pytester.mkpydir("teampkg")
    (package / "core.py").write_text(MODULE, encoding="utf-8")
    return pytester


def test_gate_fails_at_99_percent_naming_the_missing_line(repo: pytest.Pytester) -> None:
    repo.makepyfile(
        test_core="import teampkg.core\n\ndef test_import():\n    assert teampkg.core.v1\n"
    )
    result = repo.runpytest_subprocess("--cov=teampkg", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*ibguard coverage gate*", "FAIL teampkg: 99.*core.py: lines 102*"]
    )


def test_gate_passes_at_100_percent(repo: pytest.Pytester) -> None:
    repo.makepyfile(
        test_core="import teampkg.core\n\ndef test_all():\n    assert teampkg.core.rarely() == 1\n"
    )
    result = repo.runpytest_subprocess("--cov=teampkg", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["PASS teampkg: 100.00%*"])


def test_gate_without_coverage_data_says_so(repo: pytest.Pytester) -> None:
    repo.makepyfile(test_core="def test_nothing():\n    pass\n")
    result = repo.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*coverage gate not checked*"])


def test_gate_is_not_judged_on_a_partial_run(repo: pytest.Pytester) -> None:
    repo.makepyfile(
        test_core="import teampkg.core\n\ndef test_import():\n    assert teampkg.core.v1\n"
    )
    result = repo.runpytest_subprocess("--cov=teampkg", "-p", "no:cacheprovider", "test_core.py")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*coverage gate not checked: partial run*"])


def test_gate_reads_the_data_file_coverage_is_configured_to_write(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".toml", pyproject=PYPROJECT + 'data_file = "build/coverage.db"\n')
    package = pytester.mkpydir("teampkg")
    (package / "core.py").write_text(MODULE, encoding="utf-8")
    (pytester.path / "build").mkdir()
    pytester.makepyfile(
        test_core="import teampkg.core\n\ndef test_import():\n    assert teampkg.core.v1\n"
    )
    result = pytester.runpytest_subprocess("--cov=teampkg", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["FAIL teampkg: 99.*core.py: lines 102*"])
    assert not (pytester.path / ".coverage").exists()
