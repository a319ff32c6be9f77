"""Order identity: orderIds are handed out in turn, and the index drops an alias
(clientId, orderId) only for the order it points at."""

from __future__ import annotations

from decimal import Decimal

from ibguard.engine import Status
from ibguard.engine.events import NextValidId
from ibguard.engine.identity import SLOT_GAP, OrderIndex

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


# --- the orderId slots: a hint that reaches an order only with the permId the table has ----


def _slot(index: OrderIndex[str], order_id: int) -> tuple[str | None, int]:
    i = order_id - index.slot_base
    return index.slot_orders[i], index.slot_perms[i]


def test_a_perm_id_bound_to_another_order_empties_the_slot_of_the_first() -> None:
    index: OrderIndex[str] = OrderIndex()
    index.bind_perm(77, "a")
    index.place(10, 77, "a")
    index.bind_perm(77, "b")
    assert _slot(index, 10) == (None, 0)
    assert index.by_perm(77) == "b"


def test_a_perm_id_without_a_slot_moves_to_another_order_in_the_table_alone() -> None:
    index: OrderIndex[str] = OrderIndex()
    index.place(10, 77, "a")
    index.bind_perm(88, "c")
    index.bind_perm(88, "d")
    assert index.by_perm(88) == "d"
    assert _slot(index, 10) == ("a", 77)


def test_dropping_an_alias_empties_the_slot_of_that_order_only() -> None:
    index: OrderIndex[str] = OrderIndex()
    index.place(10, 77, "a")
    index.drop_alias(7, 10, "other")
    assert _slot(index, 10) == ("a", 77)
    index.drop_alias(7, 10, "a")
    assert _slot(index, 10) == (None, 0)


def test_order_ids_below_the_first_slot_or_far_past_the_last_are_left_to_the_tables() -> None:
    index: OrderIndex[str] = OrderIndex()
    index.place(1000, 1, "first")
    index.place(999, 2, "earlier")
    index.place(1001 + SLOT_GAP + 1, 3, "far")
    assert index.slot_orders == ["first"]
    index.place(1003, 4, "after a gap")  # acknowledged before the orders in between
    assert index.slot_orders == ["first", None, None, "after a gap"]
    assert list(index.slot_perms) == [1, 0, 0, 4]


def test_after_midnight_the_old_orders_status_and_fill_reach_it_by_its_perm_id(
    sc: Scenario,
) -> None:
    sc.working("yesterday")
    old_id = sc.placed("yesterday").order_id
    sc.feed(NextValidId(order_id=old_id))  # a new day hands out the same orderId
    sc.working("today")  # its permId now holds the orderId's slot
    assert sc.placed("today").order_id == old_id
    sc.feed(sc.status("yesterday", "Submitted", order_id=old_id))
    sc.feed(sc.fill("yesterday", "40", order_id=old_id))
    assert (sc.order("yesterday").status, sc.order("yesterday").filled) == (
        Status.PARTIALLY_FILLED,
        Decimal(40),
    )
    assert (sc.order("today").status, sc.order("today").filled) == (Status.WORKING, 0)


def test_a_foreign_order_with_one_of_our_order_ids_stays_out_of_our_order(sc: Scenario) -> None:
    sc.working("o1")
    order_id = sc.placed("o1").order_id
    foreign = {"order_id": order_id, "client_id": 0, "perm_id": 777, "order_ref": ""}
    sc.feed(sc.open_order("m", **foreign))  # type: ignore[arg-type]
    sc.feed(sc.status("m", "Cancelled", order_id=order_id, perm_id=777))
    sc.feed(sc.fill("m", "10", **foreign))  # type: ignore[arg-type]
    assert (sc.order("o1").status, sc.order("o1").filled) == (Status.WORKING, 0)
    assert sc.engine.positions() == ()
