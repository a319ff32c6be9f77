"""Order identity: orderIds are handed out in turn, and the index drops an alias
(clientId, orderId) only for the order it points at."""

from __future__ import annotations

from ibguard.engine.events import NextValidId
from ibguard.engine.identity import OrderIndex

from tests.engine.scenario import Scenario


def test_order_ids_are_handed_out_one_after_another_from_next_valid_id(sc: Scenario) -> None:
    sc.feed(NextValidId(order_id=500))
    sc.submit("a")
    sc.submit("b")
    assert [sc.placed("a").order_id, sc.placed("b").order_id] == [500, 501]


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
