from __future__ import annotations

from pathlib import Path

import pytest
from ibguard.kit.matrix.casebook import implemented
from ibguard.kit.matrix.catalog import CASES, CATEGORIES, Case, case
from ibguard.kit.matrix.docs_page import render_cases_page

ROOT = Path(__file__).resolve().parents[2]


def test_thirty_unique_cases_in_every_category() -> None:
    assert len({c.id for c in CASES}) == 30
    assert {c.category for c in CASES} == set(CATEGORIES)


def test_every_case_has_a_behaviour() -> None:
    assert implemented() == tuple(c.id for c in CASES)


def test_case_lookup_and_codes() -> None:
    assert case("CONN-01").codes == ("SUBMIT_PENDING", "RECONCILE_NO_BROKER_RECORD")
    assert case("BOUNDARY-01").codes == ()
    with pytest.raises(KeyError):
        case("CONN-99")


def test_malformed_id_refused() -> None:
    with pytest.raises(ValueError, match="CATEGORY-NN"):
        Case(id="NET-01", name="n", trigger="t", expected="e", code="", cost="c")


def test_docs_page_is_fresh() -> None:
    page = ROOT / "docs" / "cases.md"
    assert page.read_text(encoding="utf-8") == render_cases_page(), (
        "docs/cases.md is stale: python -m ibguard.kit.matrix.docs_page docs/cases.md"
    )
