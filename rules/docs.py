"""`docs/rules.md`, generated from the rule classes (a test fails when the file is stale).

Regenerate every generated document with `python -m ibguard.kit.docs`.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from ibguard.rules.findings import META_RULES
from ibguard.rules.registry import RULES

__all__ = ["render", "write"]


def render() -> str:
    parts = [
        "# ibguard rules\n",
        "Generated from the rule classes in `rules/` by `ibguard.rules.docs`; do not edit.\n",
        "Suppress one finding with `# ibguard: ignore[RULE-ID] reason` on its line (or alone "
        "on the line above); the reason is required.\n",
    ]
    for rule in RULES:
        doc = inspect.cleandoc(rule.__doc__ or "")
        parts.append(f"## {rule.id}\n\n**{rule.MESSAGE}** (checks {rule.TARGET.value} files)\n")
        parts.append(doc + "\n")
        parts.append(f"**Cannot see:** {rule.CANNOT}\n")
        first = rule.INVALID[0]
        parts.append(
            f"Reported (line {first.line}, column {first.column}):\n\n"
            f"```python\n{first.source}```\n"
        )
        parts.append(f"Accepted:\n\n```python\n{rule.VALID[0].source}```\n")
    parts.append("## Findings of the runner\n")
    parts.extend(f"- **{rule_id}**: {text}" for rule_id, text in META_RULES.items())
    parts.append(
        "- **CONTRACT-&lt;ID&gt;**: an import-linter contract is broken; "
        "the message names the import and how to fix it."
    )
    return "\n".join(parts) + "\n"


def write(path: str | Path) -> None:
    Path(path).write_text(render(), encoding="utf-8")
