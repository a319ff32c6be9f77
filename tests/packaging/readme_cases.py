"""The README's 30-case tables: `docs/cases.md`'s generator (`ibguard.kit.matrix.docs_page`),
its category sections placed between the README's `cases:begin`/`cases:end` markers.

Regenerate with `python -m tests.packaging.readme_cases`.
"""

from __future__ import annotations

import re
from pathlib import Path

from ibguard.kit.matrix.docs_page import render_cases_page

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"(<!-- cases:begin[^\n]*-->\n)(.*?)(<!-- cases:end -->)", re.S)


def block() -> str:
    """The category tables of docs/cases.md, one heading level down, without its title."""
    page = render_cases_page()
    sections = page[page.index("\n## ") + 1 :]
    return re.sub(r"^## ", "### ", sections, flags=re.M)


def current(text: str) -> str:
    match = _BLOCK.search(text)
    if match is None:
        raise ValueError("README.md has no cases:begin/cases:end markers")
    return match.group(2)


def updated(text: str) -> str:
    current(text)
    return _BLOCK.sub(lambda m: m.group(1) + "\n" + block() + "\n" + m.group(3), text)


if __name__ == "__main__":
    README.write_text(updated(README.read_text(encoding="utf-8")), encoding="utf-8")
