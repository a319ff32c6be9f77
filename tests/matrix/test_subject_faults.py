"""A subject that hangs fails its case after the per-case timeout, naming the method it
hangs in; a subject that raises fails in a few lines naming the method and where it raised."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from ibguard.kit.cli import main
from ibguard.kit.matrix.drivers import InProcessDriver
from ibguard.kit.matrix.reference import make_subject
from ibguard.kit.matrix.runner import play

SUBJECTS = "tests.matrix.broken_engines.misbehaving_subjects"


def _matrix(tmp_path: Path, subject: str, case: str, capsys: pytest.CaptureFixture[str]) -> dict:
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.ibguard]\ncase-timeout = 1\n")
    argv = ["matrix", "--config", str(config), "--driver", "inprocess", "-k", case]
    code = main([*argv, "--subject", f"{SUBJECTS}:{subject}", "--format", "json"])
    assert code == 1
    [result] = json.loads(capsys.readouterr().out)
    assert result["result"] == "fail"
    return result


@pytest.mark.parametrize(
    ("subject", "method"),
    [("hangs_in_submit", "submit()"), ("hangs_in_start", "start()")],
)
def test_hanging_subject_times_out_naming_the_method(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], subject: str, method: str
) -> None:
    result = _matrix(tmp_path, subject, "LIFE-06", capsys)
    assert result["reason"].startswith("LIFE-06 did not finish within 1 s")
    assert f"hangs in the subject's {method}" in result["reason"]


def test_raising_subject_fails_naming_the_method(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _matrix(tmp_path, "raises_in_submit", "LIFE-06", capsys)
    assert result["reason"] == (
        "the subject's submit() raised ValueError: tick size unknown for AAPL"
    )


def test_raising_subject_shows_a_short_failure_in_pytest(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".toml",
        pyproject=f'[tool.ibguard]\nsubject = "{SUBJECTS}:raises_in_submit"\n'
        'driver = "inprocess"\n',
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "LIFE-06")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    section = text[text.index("ibguard matrix LIFE-06 _") : text.index("= ibguard matrix =")]
    assert len(section.splitlines()) <= 8, section
    result.stdout.fnmatch_lines(
        [
            "LIFE-06 (Zero-quantity fill): the subject's submit() raised ValueError: *",
            "  at *misbehaving_subjects.py:* in _validate",
        ]
    )


def test_an_outer_alarm_timer_survives_the_case_deadline() -> None:
    """pytest-timeout's signal method arms the same timer: the case gives it back."""
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: None)
    signal.setitimer(signal.ITIMER_REAL, 300)
    try:
        play("LIFE-06", make_subject, InProcessDriver, timeout=60)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 200 < left <= 300
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
