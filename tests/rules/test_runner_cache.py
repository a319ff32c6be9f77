"""The runner's process pool and content-hash cache, observed through `CheckResult`.

`files_parsed` counts the files the rules parsed on a run (the rest came from the cache) and
`workers` the processes that parsed them; the JSON report carries `files_parsed` too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from ibguard.kit.cli import main
from ibguard.rules.cache import CACHE_DIR
from ibguard.rules.findings import CheckResult
from ibguard.rules.float_money import FloatMoney
from ibguard.rules.logcodes import CheckLogCode
from ibguard.rules.registry import RULES
from ibguard.rules.runner import PARALLEL_THRESHOLD, check_project
from ibguard.rules.settings import load_settings

from .projects import CLEAN, corpus

Project = Callable[[Mapping[str, str]], Path]
CACHE_FILE = Path(CACHE_DIR) / "rules-v1.json"
FILES = corpus(40)
CHECKED = sum(1 for name in FILES if name.startswith("app/engine/") or "connector/" in name)


def run(root: Path, **options: object) -> CheckResult:
    return check_project(load_settings(root / "pyproject.toml"), **options)  # type: ignore[arg-type]


def rule_ids(result: CheckResult) -> set[str]:
    return {f.rule for f in result.findings}


def test_the_pool_and_a_single_process_find_the_same_in_the_same_order(project: Project) -> None:
    root = project(FILES)
    assert CHECKED >= PARALLEL_THRESHOLD
    pooled = run(root, use_cache=False, jobs=2)
    serial = run(root, use_cache=False, jobs=1)
    assert (pooled.workers, serial.workers) == (2, 1)
    assert pooled.files_parsed == serial.files_parsed == CHECKED
    assert pooled.findings == serial.findings
    assert rule_ids(pooled) == {"BOUNDARY-01", "BOUNDARY-02", "CLOCK-01", "MONEY-01", "PARSE-ERROR"}


def test_files_the_screen_refuses_are_reported_once_and_alike_by_the_pool(
    project: Project,
) -> None:
    # With this many files the index is built in the pool too (each worker screens its share).
    root = project(FILES)
    (root / "app/engine/latin1.py").write_bytes(b"price = '\xe9'\n")
    (root / "app/engine/deep.py").write_text("x = " + "(" * 300 + ")" * 300 + "\n")
    pooled = run(root, use_cache=False, jobs=2)
    serial = run(root, use_cache=False, jobs=1)
    assert pooled.findings == serial.findings
    refused = [
        f for f in pooled.findings if f.path in {"app/engine/latin1.py", "app/engine/deep.py"}
    ]
    assert sorted((f.path, f.rule) for f in refused) == [
        ("app/engine/deep.py", "NESTED-TOO-DEEP"),
        ("app/engine/latin1.py", "PARSE-ERROR"),
    ]


def test_few_files_to_parse_skip_the_pool(project: Project) -> None:
    root = project(FILES)
    run(root, jobs=2)
    (root / "app/engine/clean_0.py").write_text("def step_0() -> None: ...\n")
    result = run(root, jobs=2)
    assert (result.files_parsed, result.workers) == (1, 1)


def test_an_unchanged_project_is_rechecked_without_parsing(project: Project) -> None:
    root = project(FILES)
    first = run(root, jobs=1)
    again = run(root, jobs=1)
    assert first.files_parsed == CHECKED
    assert again.files_parsed == 0
    assert again.findings == first.findings


def test_editing_one_file_reparses_only_that_file(project: Project) -> None:
    root = project(FILES)
    first = run(root, jobs=1)
    path = root / "app/engine/clean_0.py"
    path.write_text(path.read_text() + "\nstop = last_price * 0.98\n")
    second = run(root, jobs=1)
    assert second.files_parsed == 1
    added = set(second.findings) - set(first.findings)
    assert {(f.path, f.rule) for f in added} == {("app/engine/clean_0.py", "MONEY-01")}
    assert set(first.findings) <= set(second.findings)


def test_a_changed_reexport_rechecks_every_file(project: Project) -> None:
    root = project(FILES)
    run(root, jobs=1)
    (root / "app/connector/__init__.py").write_text("from ib_async import IB, Order\n")
    assert run(root, jobs=1).files_parsed == CHECKED


def test_changed_settings_invalidate_the_cache(project: Project) -> None:
    root = project(FILES)
    run(root, jobs=1)
    config = root / "pyproject.toml"
    config.write_text(config.read_text().replace('"app.model.OrderState"', '"app.model.Book"'))
    assert run(root, jobs=1).files_parsed == CHECKED


def test_a_different_rule_set_invalidates_the_cache(project: Project) -> None:
    root = project(FILES)
    run(root, jobs=1)
    money_only = run(root, jobs=1, rules=(FloatMoney,))
    assert money_only.files_parsed == CHECKED
    assert rule_ids(money_only) == {"MONEY-01", "PARSE-ERROR"}
    assert run(root, jobs=1, rules=RULES).files_parsed == CHECKED


def test_no_cache_parses_every_file_and_leaves_the_cache_as_it_was(project: Project) -> None:
    root = project(FILES)
    run(root, jobs=1)
    (root / "app/engine/clean_0.py").write_text("def step_0() -> None: ...\n")
    assert run(root, jobs=1, use_cache=False).files_parsed == CHECKED
    assert run(root, jobs=1).files_parsed == 1


CORRUPTIONS = {
    "not-json": b"{not json",
    "binary": b"\xff\xfe\x00garbage",
    "truncated": b'{"key": "x", "files": {"app/engine/x.py": {"hash": "ab',
    "a-list": b"[1, 2, 3]",
    "files-not-an-object": b'{"key": "x", "files": [], "reexports": {}}',
    "finding-without-line": (
        b'{"key": "x", "files": {"app/model.py": {"hash": "h", "findings": [{"rule": "X"}]}}}'
    ),
    "reexport-not-names": b'{"key": "x", "files": {}, "reexports": {"h": {"IB": 1}}}',
}


@pytest.mark.parametrize("content", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_cache_is_ignored_logged_and_rebuilt(
    project: Project, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    root = project(FILES)
    expected = run(root, jobs=1, use_cache=False)
    (root / CACHE_FILE).parent.mkdir()
    (root / CACHE_FILE).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="ibguard.rules"):
        result = run(root, jobs=1)
    assert [getattr(r, "code", None) for r in caplog.records] == [CheckLogCode.CACHE_CORRUPT]
    assert result.findings == expected.findings
    assert result.files_parsed == CHECKED
    assert run(root, jobs=1).files_parsed == 0


def test_a_cache_that_cannot_be_saved_is_logged_and_the_check_goes_on(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    root = project(FILES)
    (root / CACHE_DIR).write_text("a file where the cache folder goes")
    with caplog.at_level(logging.WARNING, logger="ibguard.rules"):
        result = run(root, jobs=1)
    assert CheckLogCode.CACHE_UNWRITABLE in [getattr(r, "code", None) for r in caplog.records]
    assert result.files_parsed == CHECKED
    assert rule_ids(result)


def test_the_json_report_counts_the_files_parsed(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project(CLEAN))

    def files_parsed() -> int:
        assert main(["check", "--format", "json", "--jobs", "1"]) == 0
        return int(json.loads(capsys.readouterr().out)["files_parsed"])

    assert files_parsed() == 4
    assert files_parsed() == 0
