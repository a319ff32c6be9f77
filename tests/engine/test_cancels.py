"""Cancels and the broker's answers to them (LIFE-01, LIFE-02, LIFE-03), error codes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ibguard.engine import CancelOrder, LogCode, RequestOpenOrders, Status
from ibguard.engine.events import BrokerError, ConnectionLost, NextValidId, RequestCancel

from tests.engine.scenario import AAPL, Scenario


def _error(sc: Scenario, oms_id: str, code: int, message: str = "") -> list:
    return sc.feed(BrokerError(req_id=sc.placed(oms_id).order_id, code=code, message=message))


def test_LIFE_01_no_cancel_is_sent_for_a_filled_order(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.fill("o1", "100"))
    assert sc.feed(RequestCancel(oms_id="o1")) == []
    assert sc.order("o1").status is Status.FILLED
    assert LogCode.CANCEL_IGNORED in sc.codes
    assert not sc.commands(CancelOrder)


def test_LIFE_01_cancel_racing_the_final_fill_leaves_the_order_filled(sc: Scenario) -> None:
    sc.working("o1")
    assert [type(c) for c in sc.feed(RequestCancel(oms_id="o1"))] == [CancelOrder]
    assert sc.order("o1").status is Status.CANCEL_PENDING
    sc.feed(sc.fill("o1", "100"))
    _error(
        sc,
        "o1",
        10148,
        "OrderId 100 that needs to be cancelled cannot be cancelled, state: Filled.",
    )
    assert sc.order("o1").status is Status.FILLED
    assert sc.codes[-1] is LogCode.CANCEL_IGNORED


def test_LIFE_02_already_cancelled_answer_marks_canceled_without_retry(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    commands = _error(sc, "o1", 10148, "cannot be cancelled, state: Cancelled.")
    assert sc.order("o1").status is Status.CANCELED
    assert LogCode.CANCEL_REDUNDANT in sc.codes
    assert commands == []
    assert len(sc.commands(CancelOrder)) == 1


def test_LIFE_02_inactive_status_while_cancel_pending_is_redundant_cancel(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    sc.feed(sc.status("o1", "Inactive"))
    assert sc.order("o1").status is Status.CANCELED
    assert LogCode.CANCEL_REDUNDANT in sc.codes


def test_LIFE_03_fill_after_cancel_is_accepted_and_keeps_canceled_when_partial(
    sc: Scenario,
) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    _error(sc, "o1", 202, "Order Canceled - reason:")
    assert sc.order("o1").status is Status.CANCELED
    sc.feed(sc.fill("o1", "40", "100.05"))
    order = sc.order("o1")
    assert order.status is Status.CANCELED
    assert order.filled == Decimal(40)
    assert sc.engine.position(AAPL) == Decimal(40)
    assert LogCode.FILL_AFTER_CANCEL in sc.codes


def test_LIFE_03_fill_after_cancel_that_completes_the_order_makes_it_filled(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"), sc.status("o1", "Cancelled"))
    sc.feed(sc.fill("o1", "100"))
    assert sc.order("o1").status is Status.FILLED
    assert sc.engine.position(AAPL) == Decimal(100)


@pytest.mark.parametrize(
    ("filled", "expected"), [("0", Status.WORKING), ("30", Status.PARTIALLY_FILLED)]
)
def test_refused_cancel_goes_back_to_the_live_state_and_asks_the_broker(
    sc: Scenario, filled: str, expected: Status
) -> None:
    sc.working("o1")
    if filled != "0":
        sc.feed(sc.fill("o1", filled))
    sc.feed(RequestCancel(oms_id="o1"))
    commands = _error(sc, "o1", 161, "Cancel attempted when order is not in a cancellable state")
    assert sc.order("o1").status is expected
    assert sc.order("o1").pending_reconcile
    assert RequestOpenOrders() in commands
    assert LogCode.CANCEL_REFUSED in sc.codes


def test_cancel_not_found_is_never_assumed_cancelled(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    _error(sc, "o1", 10147, "OrderId 100 that needs to be cancelled is not found.")
    assert sc.order("o1").status is Status.WORKING


def test_second_cancel_while_pending_sends_nothing(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    assert sc.feed(RequestCancel(oms_id="o1")) == []
    assert len(sc.commands(CancelOrder)) == 1


def test_cancel_of_an_order_never_sent_is_local(sc: Scenario) -> None:
    from tests.engine.scenario import Scenario as Fresh

    offline = Fresh(connect=False)
    offline.submit("o1")
    assert offline.feed(RequestCancel(oms_id="o1")) == []
    assert offline.order("o1").status is Status.CANCELED


def test_cancel_refusals_for_unknown_or_unresolved_orders(sc: Scenario) -> None:
    from ibguard.engine.events import ConnectionLost

    assert sc.feed(RequestCancel(oms_id="nope")) == []
    sc.submit("o1")
    sc.feed(ConnectionLost())
    assert sc.feed(RequestCancel(oms_id="o1")) == []
    assert sc.codes.count(LogCode.ORDER_REFUSED) == 2


def test_rejection_201_marks_rejected(sc: Scenario) -> None:
    sc.submit("o1")
    _error(sc, "o1", 201, "Order rejected - reason: margin")
    assert sc.order("o1").status is Status.REJECTED
    assert LogCode.ORDER_REJECTED in sc.codes


def test_duplicate_order_id_103_means_not_placed(sc: Scenario) -> None:
    sc.submit("o1")
    used = sc.placed("o1").order_id
    _error(sc, "o1", 103, "Duplicate order id")
    order = sc.order("o1")
    assert order.status is Status.NEW
    assert order.broker_order_id is None
    resent = sc.submit("o1")
    assert resent[0].order_id > used  # type: ignore[union-attr]


@pytest.mark.parametrize("code", [399, 404, 10349, 2104, 2158])
def test_informational_codes_never_end_an_order(sc: Scenario, code: int) -> None:
    sc.working("o1")
    _error(sc, "o1", code, "informational")
    assert sc.order("o1").status is Status.WORKING
    assert LogCode.BROKER_INFO in sc.codes


def test_unknown_error_on_an_order_asks_the_broker_instead_of_guessing(sc: Scenario) -> None:
    sc.working("o1")
    commands = _error(sc, "o1", 110, "The price does not conform to the minimum price variation")
    assert sc.order("o1").status is Status.WORKING
    assert RequestOpenOrders() in commands


def test_error_for_no_order_of_ours_is_logged(sc: Scenario) -> None:
    sc.feed(BrokerError(req_id=31337, code=200, message="No security definition"))
    assert sc.codes[-1] is LogCode.BROKER_ERROR


def test_rate_exceeded_100_reconciles(sc: Scenario) -> None:
    commands = sc.feed(BrokerError(req_id=-1, code=100, message="Max rate of messages exceeded"))
    assert RequestOpenOrders() in commands
    assert LogCode.RATE_LIMIT in sc.codes


def test_after_a_duplicate_order_id_the_next_submit_skips_it_even_if_next_valid_id_lags(
    sc: Scenario,
) -> None:
    sc.submit("o1")
    used = sc.placed("o1").order_id
    sc.feed(NextValidId(order_id=used))  # an answer to reqIds that predates our placeOrder
    _error(sc, "o1", 103, "Duplicate order id")
    resent = sc.submit("o1")
    assert resent[0].order_id == used + 1  # type: ignore[union-attr]


def test_a_submit_while_disconnected_is_refused_and_kept_new(sc: Scenario) -> None:
    sc.feed(ConnectionLost(reason="socket closed"))
    assert sc.submit("o1") == []
    assert sc.order("o1").status is Status.NEW
    assert LogCode.ORDER_REFUSED in sc.codes


def test_cancel_log_says_whether_it_was_local_or_already_pending(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"), RequestCancel(oms_id="o1"))
    sc.feed(ConnectionLost(reason="socket closed"))
    sc.submit("never_sent")
    sc.feed(RequestCancel(oms_id="never_sent"))
    messages = [r.getMessage() for r in sc.records(LogCode.CANCEL_REQUESTED)]
    assert messages == [
        "cancelOrder sent",
        "cancel already pending",
        "canceled locally (never sent)",
    ]


@pytest.mark.parametrize(
    ("message", "logged"),
    [
        ("OrderId 100 cannot be cancelled, state: PreSubmitted.", "PreSubmitted"),
        ("Cancel attempted when order is not in a cancellable state", ""),
    ],
)
def test_a_refused_cancel_logs_the_state_the_broker_named(
    sc: Scenario, message: str, logged: str
) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    _error(sc, "o1", 10148, message)
    (record,) = sc.records(LogCode.CANCEL_REFUSED)
    assert record.broker_state == logged  # type: ignore[attr-defined]


def test_a_cancel_confirmed_by_status_is_not_called_redundant_and_is_logged_once(
    sc: Scenario,
) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    sc.feed(sc.status("o1", "Cancelled"), sc.status("o1", "Cancelled"))
    assert sc.order("o1").status is Status.CANCELED
    assert LogCode.CANCEL_REDUNDANT not in sc.codes
    assert len(sc.records(LogCode.ORDER_CANCELED)) == 1


def test_inactive_while_a_cancel_is_pending_is_an_already_gone_order(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    sc.feed(sc.status("o1", "Inactive"))
    assert sc.order("o1").status is Status.CANCELED
    assert LogCode.CANCEL_REDUNDANT in sc.codes
