"""Fixtures of the rules tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from .projects import write_project


@pytest.fixture
def project(tmp_path: Path) -> Callable[[Mapping[str, str]], Path]:
    """Writes a file map as a project under tmp_path and returns its root."""
    return lambda files: write_project(tmp_path / "repo", files)
