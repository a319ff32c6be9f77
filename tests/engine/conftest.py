"""Engine test fixtures: an engine wired to a recording log handler and alert sink."""

from __future__ import annotations

import pytest

from tests.engine.scenario import Scenario


@pytest.fixture
def sc() -> Scenario:
    return Scenario()
