"""The contract types on throwaway packages, through the `ibguard check` fold and the template."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ibguard.contracts.linting import lint
from ibguard.contracts.templates import ibguard_template, importlinter_template

PACKAGE = {
    "shop/__init__.py": "",
    "shop/engine/__init__.py": "",
    "shop/engine/core.py": "from shop.engine import model\n",
    "shop/engine/model.py": "",
    "shop/engine/connector/__init__.py": "",
    "shop/engine/connector/port.py": "import ib_async\n",
    "shop/engine/connector/_session.py": "import ib_async\n",
}
BROKEN = {
    "shop/engine/core.py": (
        "import time\nimport ib_async\nfrom shop.engine.connector import _session\n"
    ),
}


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    config = importlinter_template(
        "shop",
        engine="shop.engine",
        connector="shop.engine.connector",
        public=["shop.engine.connector.port"],
    )
    settings = ibguard_template(["shop/engine/*.py"], ["shop/engine/connector/**/*.py"])
    (root / "pyproject.toml").write_text(settings + "\n" + config)
    return root


def test_template_contracts_are_kept_by_a_clean_package(tmp_path: Path) -> None:
    root = write(tmp_path / "clean", PACKAGE)
    assert lint(root / "pyproject.toml", root) == []


def test_each_contract_reports_its_forbidden_import_with_line_and_guidance(tmp_path: Path) -> None:
    root = write(tmp_path / "broken", {**PACKAGE, **BROKEN})
    broken = {b.contract_id: b for b in lint(root / "pyproject.toml", root)}
    assert set(broken) == {
        "CONTRACT-BROKER-BOUNDARY",
        "CONTRACT-CONNECTOR-INTERNALS",
        "CONTRACT-ENGINE-ISOLATION",
    }
    lines = {
        (b.contract_id, v.imported, v.line_number) for b in broken.values() for v in b.violations
    }
    assert ("CONTRACT-BROKER-BOUNDARY", "ib_async", 2) in lines
    assert ("CONTRACT-ENGINE-ISOLATION", "time", 1) in lines
    assert ("CONTRACT-CONNECTOR-INTERNALS", "shop.engine.connector._session", 3) in lines
    assert all(b.guidance for b in broken.values())


def test_check_folds_broken_contracts_into_findings(tmp_path: Path) -> None:
    root = write(tmp_path / "broken", {**PACKAGE, **BROKEN})
    done = subprocess.run(
        [sys.executable, "-m", "ibguard.kit.cli", "check", "--format", "json", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    rules = {(f["rule"], f["path"], f["line"]) for f in json.loads(done.stdout)["findings"]}
    assert ("CONTRACT-BROKER-BOUNDARY", "shop/engine/core.py", 2) in rules
    assert ("BOUNDARY-02", "shop/engine/core.py", 2) in rules


def check_json(root: Path, *flags: str) -> tuple[int, list[dict[str, object]], int]:
    done = subprocess.run(
        [sys.executable, "-m", "ibguard.kit.cli", "check", "--format", "json", *flags],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout, done.stderr
    report = json.loads(done.stdout)
    return done.returncode, report["findings"], report["files_parsed"]


def test_contracts_only_reports_broken_contracts_and_parses_nothing(tmp_path: Path) -> None:
    root = write(tmp_path / "broken", {**PACKAGE, **BROKEN})
    code, findings, parsed = check_json(root, "--contracts-only")
    assert code == 1
    assert parsed == 0
    assert {str(f["rule"]) for f in findings} == {
        "CONTRACT-BROKER-BOUNDARY",
        "CONTRACT-CONNECTOR-INTERNALS",
        "CONTRACT-ENGINE-ISOLATION",
    }


def test_no_contracts_reports_rule_findings_only(tmp_path: Path) -> None:
    root = write(tmp_path / "broken", {**PACKAGE, **BROKEN})
    code, findings, parsed = check_json(root, "--no-contracts")
    assert code == 1
    assert parsed > 0
    rules = {str(f["rule"]) for f in findings}
    assert "BOUNDARY-02" in rules
    assert not any(rule.startswith("CONTRACT-") for rule in rules)


def test_a_reasonless_suppression_is_reported_by_the_rules_not_by_contracts_only(
    tmp_path: Path,
) -> None:
    core = "import ib_async  # ibguard: ignore[CONTRACT-BROKER-BOUNDARY,BOUNDARY-02]\n"
    root = write(tmp_path / "quiet", {**PACKAGE, "shop/engine/core.py": core})
    _, everything, _ = check_json(root)
    _, contracts, _ = check_json(root, "--contracts-only")
    assert [f["rule"] for f in everything] == ["IGNORE-NO-REASON"]
    assert contracts == []


def test_lint_imports_prints_the_guidance(tmp_path: Path) -> None:
    root = write(tmp_path / "broken", {**PACKAGE, **BROKEN})
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "How to fix:" in done.stdout


def test_an_invalid_contract_option_is_a_config_error(tmp_path: Path) -> None:
    from ibguard.engine.errors import ConfigError

    root = write(tmp_path / "bad", PACKAGE)
    path = root / "pyproject.toml"
    path.write_text(
        path.read_text().replace('connector = "shop.engine.connector"', 'conector = "x"')
    )
    # import-linter 2.17 names the unknown key, 2.15 (the newest on Python 3.10) the missing one
    with pytest.raises(ConfigError, match=r"conector|connector"):
        lint(path, root)


def test_this_repository_passes_its_own_check() -> None:
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "ibguard.kit.cli", "check", "--no-cache"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, textwrap.shorten(done.stdout + done.stderr, 2000)
