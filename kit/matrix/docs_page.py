"""`docs/cases.md`, rendered from the catalog (a test fails when the file is stale).

Regenerate every generated document with `python -m ibguard.kit.docs`.
"""

from __future__ import annotations

from ibguard.kit.matrix.catalog import CASES, CATEGORIES

__all__ = ["render_cases_page"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_cases_page() -> str:
    lines = [
        "# The execution matrix",
        "",
        "Generated from `ibguard.kit.matrix.catalog` (do not edit by hand: run",
        "`python -m ibguard.kit.docs`). Test ids are the case ids,",
        "with the variant for a case played in several (`LIFE-03[short]`): `pytest -k CONN-01`,",
        "`ibguard matrix -k CONN-01`; `ibguard matrix --list` prints the catalog.",
        "",
        f"{len(CASES)} cases. Every case runs by default; a team pins the set its gate runs in",
        '`[tool.ibguard]` (`cases = "seed-30"`, or a list of case ids) so that upgrading',
        "ibguard never adds a case to its CI without its consent. A case running longer than",
        "`case-timeout` seconds (default 120) fails naming the subject method it hangs in; a",
        "case that cannot be set up against a subject is skipped with the reason.",
    ]
    for category in CATEGORIES:
        lines += [
            "",
            f"## {category}",
            "",
            "| id | name | trigger | expected | code | cost | variants |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in CASES:
            if c.category == category:
                variants = ", ".join(c.variants) or "-"
                cells = (c.id, c.name, c.trigger, c.expected, c.code or "-", c.cost, variants)
                lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    return "\n".join(lines) + "\n"
