from __future__ import annotations

import pytest
from ibguard.kit.matrix.casebook import implemented
from ibguard.kit.matrix.catalog import CASE_SETS, CASES, CATEGORIES, Case, case


def test_unique_cases_in_every_category_and_the_seed_set_kept() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.category for c in CASES} == set(CATEGORIES)
    assert len(CASE_SETS["seed-30"]) == 30  # the seed's catalog, pinned by teams
    assert "EDGE-04" in CASE_SETS["seed-30"]
    assert "SEC-03" not in CASE_SETS["seed-30"]  # added later: only in "all"
    assert CASE_SETS["all"] == tuple(c.id for c in CASES)


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
