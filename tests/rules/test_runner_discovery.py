"""Which files the runner finds: globs, symlinks, and folders it cannot list."""

from __future__ import annotations

import pytest
from ibguard.rules.discovery import glob_matches, glob_may_match_under


@pytest.mark.parametrize(
    ("relative", "pattern", "matches"),
    [
        ("engine/a.py", "engine/**/*.py", True),
        ("engine/x/y/a.py", "engine/**/*.py", True),
        ("engine/a.py", "engine/*.py", True),
        ("engine/x/a.py", "engine/*.py", False),
        ("engine/a.pyi", "engine/**/*.py", False),
        ("a/b/c.py", "**", True),
        ("src/x/y.py", "src/**.py", True),
        ("x/src/y.py", "**/src/*.py", True),
        ("src/y.py", "**/src/*.py", True),
        ("app/engine/a.py", "./app/engine/**/*.py", True),
        ("app/engine/a.py", "app/**/**/**/engine/*.py", True),
        ("app/engine/a.py", "app/?ngine/a.py", True),
        ("app/engine/a.py", "app/*/b.py", False),
    ],
)
def test_globs_match_like_shell_globs_with_double_star_spanning_folders(
    relative: str, pattern: str, matches: bool
) -> None:
    assert glob_matches(relative, [pattern]) is matches


def test_a_glob_with_many_double_stars_is_matched_without_backtracking() -> None:
    # With one regex per glob this took 44 s per path at 12 `**/`; here it would never end.
    pattern = "**/" * 60 + "x/" + "**/a/" * 30 + "*.py"
    assert not glob_matches("a/" * 200 + "b.py", [pattern])
    assert glob_matches("x/" + "a/" * 30 + "b.py", [pattern])


def test_a_folder_is_relevant_only_if_a_glob_can_match_below_it() -> None:
    globs = ["app/engine/**/*.py", "app/*/core.py"]
    assert glob_may_match_under("app/engine/sub", globs)
    assert glob_may_match_under("app/static", globs)  # app/static/core.py
    assert not glob_may_match_under("docs", globs)
    assert not glob_may_match_under("app/static/deeper", globs)
