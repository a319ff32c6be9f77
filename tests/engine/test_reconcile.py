"""Reconciliation and identity: the broker wins; permId is the key (FAIL-04, FAIL-05,
FAIL-06, SEC-01, EDGE-03)."""

from __future__ import annotations

from decimal import Decimal

from ibguard.engine import LogCode, PlaceOrder, Status, TimeInForce
from ibguard.engine.events import (
    CompletedOrdersSnapshot,
    ConnectionLost,
    ConnectionRestored,
    ExecutionsSnapshot,
    NextValidId,
    OpenOrdersSnapshot,
    Reconcile,
)

from tests.engine.scenario import AAPL, Scenario


def _reconcile(sc: Scenario, *, open_orders=(), completed=(), executions=()) -> None:
    sc.feed(Reconcile(reason="test"))
    sc.feed(OpenOrdersSnapshot(orders=tuple(open_orders)))
    sc.feed(CompletedOrdersSnapshot(orders=tuple(completed)))
    sc.feed(ExecutionsSnapshot(executions=tuple(executions)))


def test_FAIL_04_acknowledged_order_unknown_to_the_broker_is_forced_canceled(sc: Scenario) -> None:
    sc.working("o1")
    _reconcile(sc)
    assert sc.order("o1").status is Status.CANCELED
    assert LogCode.RECONCILE_MISMATCH in sc.alerts.codes


def test_FAIL_04_orders_found_in_completed_orders_take_the_broker_state(sc: Scenario) -> None:
    sc.working("o1")
    _reconcile(sc, completed=[sc.open_order("o1", "Cancelled")])
    assert sc.order("o1").status is Status.CANCELED
    assert LogCode.RECONCILE_MISMATCH not in sc.codes


def test_FAIL_04_executions_alone_count_as_a_broker_record(sc: Scenario) -> None:
    sc.working("o1")
    _reconcile(sc, executions=[sc.fill("o1", "100")])
    assert sc.order("o1").status is Status.FILLED


def test_FAIL_04_orders_sent_during_the_reconcile_are_left_alone(sc: Scenario) -> None:
    sc.feed(Reconcile(reason="test"))
    sc.submit("late")
    sc.feed(OpenOrdersSnapshot(), CompletedOrdersSnapshot(), ExecutionsSnapshot())
    assert sc.order("late").status is Status.SUBMITTED


def test_FAIL_05_order_id_reused_after_midnight_never_touches_the_old_order(sc: Scenario) -> None:
    sc.working("yesterday")
    sc.feed(sc.fill("yesterday", "100"))
    old_id = sc.placed("yesterday").order_id
    sc.feed(NextValidId(order_id=old_id))  # a new day hands out the same orderId
    sc.submit("today")
    assert sc.placed("today").order_id == old_id
    assert LogCode.ORDER_ID_REUSE in sc.codes
    sc.feed(sc.open_order("today", perm_id=5555))
    sc.feed(sc.status("today", "Cancelled", perm_id=5555))
    assert sc.order("today").status is Status.CANCELED
    assert sc.order("yesterday").status is Status.FILLED
    assert sc.order("yesterday").filled == Decimal(100)


def test_FAIL_05_only_a_reused_order_id_is_logged_as_reuse_naming_the_older_order(
    sc: Scenario,
) -> None:
    sc.working("yesterday")
    sc.feed(NextValidId(order_id=sc.placed("yesterday").order_id))
    sc.submit("today")
    sc.submit("fresh")
    (reuse,) = sc.records(LogCode.ORDER_ID_REUSE)
    assert (reuse.oms_id, reuse.old_oms_id) == ("today", "yesterday")  # type: ignore[attr-defined]


def test_FAIL_05_status_by_a_reused_order_id_with_another_perm_id_is_not_applied(
    sc: Scenario,
) -> None:
    sc.working("o1")
    sc.feed(sc.status("o1", "Cancelled", perm_id=123456789))
    assert sc.order("o1").status is Status.WORKING
    assert LogCode.ORDER_ID_REUSE in sc.codes


def test_FAIL_06_gtc_order_survives_the_weekend_restart(sc: Scenario) -> None:
    from tests.engine.scenario import Scenario as Restarted

    monday = Restarted(connect=False)
    monday.feed(NextValidId(order_id=1))
    friday_order = sc.open_order("gtc1", order_id=88, perm_id=4711, tif=TimeInForce.GTC)
    monday.feed(ConnectionRestored(data_lost=True))
    monday.feed(OpenOrdersSnapshot(orders=(friday_order,)))
    monday.feed(CompletedOrdersSnapshot(), ExecutionsSnapshot())
    order = monday.order("gtc1")
    assert order.status is Status.WORKING
    assert order.recovered
    assert order.perm_id == 4711
    assert order.broker_order_id == 88
    assert order.tif is TimeInForce.GTC
    assert LogCode.RECONCILE_RECOVERED in monday.codes


def test_SEC_01_manual_orders_and_fills_are_foreign_and_kept_out(sc: Scenario) -> None:
    manual = sc.open_order("m", order_ref="", client_id=0, order_id=0, perm_id=6001)
    sc.feed(manual)
    sc.feed(sc.fill("m", "25", order_ref="", client_id=0, order_id=0, perm_id=6001))
    assert sc.engine.orders() == ()
    assert sc.engine.positions() == ()
    assert sc.codes.count(LogCode.FOREIGN_ORDER) == 1
    assert not sc.engine.halted


def test_SEC_01_other_systems_namespace_is_foreign(sc: Scenario) -> None:
    sc.feed(sc.open_order("x", order_ref="other:x", client_id=3, perm_id=6002))
    assert sc.engine.order("x") is None
    assert LogCode.FOREIGN_ORDER in sc.codes


def test_EDGE_03_order_id_wrap_keeps_orders_apart(sc: Scenario) -> None:
    sc.feed(NextValidId(order_id=2**31 - 2))
    sc.working("before")
    sc.working("after")
    assert sc.placed("before").order_id == 2**31 - 2
    assert sc.placed("after").order_id == 1
    assert LogCode.ORDER_ID_WRAP in sc.codes
    sc.feed(sc.fill("after", "100"))
    assert sc.order("after").status is Status.FILLED
    assert sc.order("before").status is Status.WORKING
    assert sc.order("before").filled == 0


def test_execution_matched_by_perm_id_even_without_order_ref(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.fill("o1", "10", order_ref=""))
    assert sc.order("o1").filled == Decimal(10)
    assert sc.engine.position(AAPL) == Decimal(10)


def test_status_for_unknown_order_is_ignored(sc: Scenario) -> None:
    sc.submit("o1")
    sc.feed(sc.status("o1", "Submitted", order_id=4040, perm_id=9))
    assert sc.order("o1").status is Status.SUBMITTED


def test_orderref_of_ours_unknown_to_the_book_is_found_only_by_recovery(sc: Scenario) -> None:
    sc.feed(sc.status("o1", "Submitted", order_id=4040)) if False else None
    sc.feed(sc.open_order("ghost", order_id=4041, perm_id=7))
    assert sc.order("ghost").recovered
    assert sc.order("ghost").status is Status.WORKING


def test_snapshots_are_frozen(sc: Scenario) -> None:
    import dataclasses

    import pytest

    sc.working("o1")
    snapshot = sc.order("o1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.status = Status.FILLED  # type: ignore[misc]
    assert [type(c) for c in sc.sent].count(PlaceOrder) == 1


def test_FAIL_04_an_order_resent_during_the_reconcile_does_not_shield_older_orders(
    sc: Scenario,
) -> None:
    sc.submit("retry")  # never answered: the first reconcile puts it back to NEW
    _reconcile(sc)
    assert sc.order("retry").status is Status.NEW
    sc.working("gone")
    sc.feed(Reconcile(reason="test"))
    sc.submit("retry")  # sent again while the broker's answers are being taken
    sc.feed(OpenOrdersSnapshot(), CompletedOrdersSnapshot(), ExecutionsSnapshot())
    assert sc.order("retry").status is Status.SUBMITTED
    assert sc.order("gone").status is Status.CANCELED


def test_an_order_already_put_back_to_new_is_not_reported_again_by_a_later_reconcile(
    sc: Scenario,
) -> None:
    sc.submit("retry")
    _reconcile(sc)
    _reconcile(sc)
    assert sc.order("retry").status is Status.NEW
    assert len(sc.records(LogCode.RECONCILE_NO_BROKER_RECORD)) == 1


def test_a_reconcile_asked_for_while_disconnected_runs_on_reconnect_under_its_reason(
    sc: Scenario,
) -> None:
    sc.feed(ConnectionLost(reason="socket closed"))
    sc.feed(Reconcile(reason="operator asked"))
    sc.feed(ConnectionRestored(data_lost=False))
    sc.feed(ConnectionLost(reason="socket closed"))
    sc.feed(ConnectionRestored(data_lost=True))
    reasons = [r.reason for r in sc.records(LogCode.RECONCILE_STARTED)]  # type: ignore[attr-defined]
    assert reasons[-2:] == ["operator asked", "connected"]
