"""Every log code in the catalogs is emitted somewhere in the source: a code nothing logs is
either a decision the code forgot to record or a stale entry (both are bugs)."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import pytest
from ibguard.engine.logcodes import LogCode
from ibguard.kit.gateway.logcodes import GatewayLogCode
from ibguard.rules.logcodes import CheckLogCode

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {
    path: path.read_text(encoding="utf-8")
    for folder in ("engine", "kit", "rules")
    for path in sorted((ROOT / folder).rglob("*.py"))
    if path.name != "logcodes.py"
}
CODES: list[Enum] = [*LogCode, *GatewayLogCode, *CheckLogCode]


@pytest.mark.parametrize("code", CODES, ids=[f"{type(c).__name__}.{c.name}" for c in CODES])
def test_the_code_is_logged_somewhere(code: Enum) -> None:
    used = re.compile(rf"\b{type(code).__name__}\.{code.name}\b")
    assert any(used.search(text) for text in SOURCES.values()), (
        f"{type(code).__name__}.{code.name} is never logged: record it where that decision "
        "happens, or remove it from the catalog"
    )
