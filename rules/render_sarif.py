"""SARIF 2.1.0 output: one run, one rule descriptor per rule id, relative paths.

Locations use `%SRCROOT%` as the base, so uploads work from any checkout. Each result has a
`partialFingerprints` entry that survives unrelated edits: a hash of rule, path and message,
plus the occurrence number among identical ones (line numbers are deliberately left out).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Final

from ibguard.rules.findings import CheckResult

__all__ = ["render"]

_SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
_INFORMATION_URI: Final = "https://github.com/ibguard/ibguard/blob/main/docs/rules.md"


def render(result: CheckResult, descriptions: Mapping[str, str], version: str) -> str:
    """`descriptions` maps every rule id that can occur to one line saying what it catches."""
    rule_ids = sorted({*descriptions, *(f.rule for f in result.findings)})
    index = {rule_id: n for n, rule_id in enumerate(rule_ids)}
    seen: dict[str, int] = {}
    results = []
    for finding in result.findings:
        base = hashlib.sha256(
            f"{finding.rule}|{finding.path}|{finding.message}".encode()
        ).hexdigest()[:32]
        seen[base] = seen.get(base, 0) + 1
        results.append(
            {
                "ruleId": finding.rule,
                "ruleIndex": index[finding.rule],
                "level": "error",
                "message": {"text": finding.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": finding.line, "startColumn": finding.column},
                        }
                    }
                ],
                "partialFingerprints": {"ibguardFindingHash/v1": f"{base}:{seen[base]}"},
            }
        )
    rules = [
        {
            "id": rule_id,
            "name": rule_id.replace("-", ""),
            "shortDescription": {"text": descriptions.get(rule_id, rule_id)},
            "helpUri": f"{_INFORMATION_URI}#{rule_id.lower()}",
        }
        for rule_id in rule_ids
    ]
    log = {
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ibguard",
                        "version": version,
                        "informationUri": _INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "project root"}}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
