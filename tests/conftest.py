"""Suite-wide policy: where the coverage tracer runs.

The coverage gate judges `ibguard.engine` (100% line+branch) on the whole run. Under Python
3.11 the C tracer makes *all* Python code 2-3x slower while it is on, also code it does not
measure (the kit, the gateway, the client libraries). Tests that replay the matrix, fuzz the
kit or time the engine run only engine lines and branches that `tests/engine` and `tests/kit`
trace already, so they are marked `untraced`: the tracer pauses for the test's call (setup
and teardown stay traced). Checked with `pytest tests/engine tests/kit tests/matrix
tests/reliability --ibguard-matrix --cov-context=test`: no engine arc is traced only by an
`untraced` test. If the gate ever names a line that only such a test runs, give that line a
test of its own in `tests/engine` (every matrix case has focused engine unit tests) rather
than tracing a replay.

pytest-cov's own `no_cover` marker does the same but raises under `--no-cov` (pytest-cov
7.1 pauses a controller that does not exist), hence this marker.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

# The repo's own matrix items (the plugin's, `ibguard-matrix::<case>`) stay traced, but for
# the cost cases: they time the engine (a tracer skews what they measure) and PERF-01 alone
# places 11,000 orders through the gateway, with the same engine lines as every other case.
UNTRACED_CATEGORIES = frozenset({"PERF"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "untraced: the coverage tracer pauses during the test's call (it runs no engine "
        "line that other tests do not trace; see tests/conftest.py)",
    )
    # a plugin, not this conftest's hook: conftest runtest hooks only reach items under
    # tests/, and the matrix items hang off the session
    config.pluginmanager.register(_PauseTracer(), "ibguard-tests-untraced")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from ibguard.kit.matrix.catalog import case
    from ibguard.kit.matrix.pytest_items import CaseItem

    for item in items:
        if isinstance(item, CaseItem) and case(item.name).category in UNTRACED_CATEGORIES:
            item.add_marker(pytest.mark.untraced)


def _tracing(config: pytest.Config) -> Any:
    """pytest-cov's controller while it measures this session, else None (`--no-cov`,
    no `--cov`, or pytest-cov not installed)."""
    plugin = config.pluginmanager.getplugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    return controller if controller is not None and controller.started else None


class _PauseTracer:
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        controller = _tracing(item.config) if item.get_closest_marker("untraced") else None
        if controller is None:
            return (yield)
        controller.pause()
        try:
            return (yield)
        finally:
            controller.resume()
