"""Broken import-linter contracts as findings (placeholder until contracts land)."""

from __future__ import annotations

from ibguard.rules.findings import Finding
from ibguard.rules.settings import Settings

__all__ = ["contract_findings"]


def contract_findings(settings: Settings) -> list[Finding]:
    return []
