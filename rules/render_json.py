"""JSON output: `{"findings": [{rule, path, line, column, message}, ...], "files_checked": N,
"files_parsed": M}` (M: the files the rules parsed on this run; the rest came from the cache)."""

from __future__ import annotations

import json

from ibguard.rules.findings import CheckResult

__all__ = ["render"]


def render(result: CheckResult) -> str:
    data = {
        "findings": [f.to_dict() for f in result.findings],
        "files_checked": result.files_checked,
        "files_parsed": result.files_parsed,
    }
    return json.dumps(data, indent=2) + "\n"
