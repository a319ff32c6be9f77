"""Broken import-linter contracts folded into `ibguard check` findings.

Each forbidden import becomes a finding `CONTRACT-<ID>` at the importing line, with the
contract's fix-it guidance; a broken built-in contract without per-import data becomes one
finding at the config file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ibguard.rules.findings import Finding
from ibguard.rules.settings import Settings

__all__ = ["contract_findings"]


def _module_path(module: str, root: Path) -> str | None:
    added = [str(p) for p in (root, root / "src") if p.is_dir() and str(p) not in sys.path]
    sys.path[:0] = added
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    finally:
        for path in added:
            sys.path.remove(path)
    if spec is None or not spec.origin or not spec.has_location:
        return None
    try:
        return Path(spec.origin).resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def contract_findings(settings: Settings) -> list[Finding]:
    from ibguard.contracts.linting import lint

    root = settings.root
    config = settings.config_file.relative_to(root).as_posix()
    findings = []
    for broken in lint(settings.config_file, root):
        if not broken.violations:
            message = f"contract {broken.name!r} is broken; {broken.guidance}"
            findings.append(Finding(config, 1, 1, broken.contract_id, message))
        for v in broken.violations:
            path = _module_path(v.importer, root)
            message = f"{v.importer} imports {v.imported} ({broken.name}); fix: {broken.guidance}"
            if path is None:
                findings.append(Finding(config, 1, 1, broken.contract_id, message))
            else:
                findings.append(Finding(path, v.line_number, 1, broken.contract_id, message))
    return findings
