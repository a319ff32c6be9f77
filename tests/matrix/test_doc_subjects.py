"""The subjects the docs tell teams to copy pass the matrix as written: each page's code
blocks (engine, subject, `[tool.ibguard]` with its strict xfails) are written into a
throwaway repository and the whole catalog is played over the wire, as a team's CI would.
A new case that the example fails turns this red until it is fixed or listed with a reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ibguard.kit.matrix.catalog import variant_ids

DOCS = Path(__file__).resolve().parents[2] / "docs"
_BLOCK = re.compile(r"<!-- file: (?P<path>[\w./]+) -->\n```\w+\n(?P<text>.*?)```", re.DOTALL)


def doc_files(page: str) -> dict[str, str]:
    """The files a docs page lays out, by path: each fenced block under a `file:` marker."""
    files = {m["path"]: m["text"] for m in _BLOCK.finditer((DOCS / page).read_text("utf-8"))}
    assert "pyproject.toml" in files, f"{page} has no pyproject.toml block"
    return files


def test_the_ib_async_page_lays_out_an_engine_a_subject_and_its_config() -> None:
    assert set(doc_files("ib-async-subject.md")) == {
        "trader/engine.py",
        "ibguard_subject.py",
        "pyproject.toml",
    }


@pytest.mark.parametrize("page", ["ib-async-subject.md"])
def test_the_docs_subject_passes_the_whole_matrix_over_the_wire(
    page: str, pytester: pytest.Pytester
) -> None:
    for path, text in doc_files(page).items():
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if target.suffix == ".py" and target.parent != pytester.path:
            (target.parent / "__init__.py").touch()
    pytester.syspathinsert()
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:randomly", "--ibguard-json", "m.json"
    )
    results = json.loads((pytester.path / "m.json").read_text("utf-8"))
    outcome = {r["id"] + (f"[{r['variant']}]" if "variant" in r else ""): r for r in results}
    assert sorted(outcome) == sorted(variant_ids()), "the whole catalog was played"
    failed = {k: r["reason"] for k, r in outcome.items() if r["result"] == "fail"}
    assert failed == {}, "fix the example or list the case in its strict xfail table"
    assert result.ret == pytest.ExitCode.OK
