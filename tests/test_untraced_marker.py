"""The `untraced` marker (tests/conftest.py) pauses the coverage tracer for a test's call
and only then: the speed it buys must not cost the gate the rest of the suite's lines."""

from __future__ import annotations

import sys

import pytest


def _measuring(config: pytest.Config) -> bool:
    plugin = config.pluginmanager.getplugin("_cov")
    return getattr(plugin, "cov_controller", None) is not None


@pytest.mark.untraced
def test_an_untraced_test_runs_without_the_tracer() -> None:
    assert sys.gettrace() is None


def test_other_tests_of_a_measured_session_run_under_the_tracer(
    pytestconfig: pytest.Config,
) -> None:
    assert (sys.gettrace() is not None) == _measuring(pytestconfig)
