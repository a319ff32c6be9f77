"""The order index: an alias (clientId, orderId) is dropped only for the order it points at."""

from __future__ import annotations

from ibguard.engine.identity import OrderIndex


def test_dropping_an_alias_forgets_it() -> None:
    index: OrderIndex[str] = OrderIndex()
    index.bind_alias(7, 42, "o1")
    index.drop_alias(7, 42, "o1")
    assert index.by_alias(7, 42) is None


def test_an_unknown_client_id_is_client_zero_when_dropping() -> None:
    index: OrderIndex[str] = OrderIndex()
    index.bind_alias(0, 42, "o1")
    index.drop_alias(None, 42, "o1")
    assert index.by_alias(0, 42) is None


def test_dropping_an_order_that_never_had_an_order_id_leaves_other_aliases() -> None:
    index: OrderIndex[str] = OrderIndex()
    index.bind_alias(0, 1, "o1")
    index.drop_alias(0, None, "o1")
    assert index.by_alias(0, 1) == "o1"


def test_dropping_leaves_an_alias_that_now_points_at_a_newer_order() -> None:
    index: OrderIndex[str] = OrderIndex()
    index.bind_alias(7, 42, "old")
    assert index.bind_alias(7, 42, "new") == "old"
    index.drop_alias(7, 42, "old")
    assert index.by_alias(7, 42) == "new"
