"""The README: the generated 30-case tables are current, its links resolve, and the
quickstart keeps its two command lines. (The docs subject pages are played through the whole
matrix in tests/matrix/test_doc_subjects.py.)"""

from __future__ import annotations

import re
from pathlib import Path

from ibguard.kit.docs import readme_cases_block
from ibguard.kit.matrix.catalog import CASES

README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = README.read_text(encoding="utf-8")


def test_the_case_tables_list_the_catalog_in_order() -> None:
    """(Their staleness test is with every generated document's, tests/test_generated_docs.py.)"""
    rows = [
        line
        for line in readme_cases_block(TEXT).splitlines()
        if re.match(r"\| [A-Z]+-\d\d \|", line)
    ]
    assert [row.split(" | ")[0][2:] for row in rows] == [c.id for c in CASES]


def test_relative_links_resolve() -> None:
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)\)", TEXT):
        assert (README.parent / target).exists(), target


def test_the_quickstart_has_exactly_two_command_lines() -> None:
    quickstart = TEXT.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    (commands,) = re.findall(r"```sh\n(.*?)```", quickstart, re.S)
    assert commands.splitlines() == [
        "pip install . && ibguard matrix",
        "pip install -e '.[dev]' && pytest",
    ]
