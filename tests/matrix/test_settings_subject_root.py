"""The subject named in [tool.ibguard] loads from the config's folder under a bare pytest."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ibguard.engine.errors import ConfigError
from ibguard.kit.matrix.settings import load_subject_factory


def test_subject_module_next_to_pyproject_is_importable(tmp_path: Path) -> None:
    (tmp_path / "team_subject_xyz.py").write_text("def make_subject():\n    return 'subject'\n")
    try:
        factory = load_subject_factory("team_subject_xyz:make_subject", tmp_path)
        assert factory() == "subject"
    finally:
        sys.path.remove(str(tmp_path.resolve()))
        sys.modules.pop("team_subject_xyz", None)


def test_unknown_subject_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no_such_module_abc"):
        load_subject_factory("no_such_module_abc:make", tmp_path)
    sys.path.remove(str(tmp_path.resolve()))
