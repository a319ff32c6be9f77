"""The matrix tests drive throwaway repos with pytester (enabled here: `pytest_plugins` is
only allowed in the top-level conftest)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")
