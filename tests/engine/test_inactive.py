"""orderStatus Inactive (LIFE-13): held with a whyHeld, final without one."""

from __future__ import annotations

import dataclasses

from ibguard.engine import CancelOrder, LogCode, Status
from ibguard.engine.events import BrokerError, RequestCancel

from tests.engine.scenario import Scenario


def _held(sc: Scenario, oms_id: str, why: str = "locate") -> None:
    sc.feed(dataclasses.replace(sc.status(oms_id, "Inactive"), why_held=why))


def test_an_order_held_for_a_locate_stays_working_and_fills_when_released(sc: Scenario) -> None:
    sc.working("o1")
    _held(sc, "o1")
    assert sc.order("o1").status is Status.WORKING
    (record,) = sc.records(LogCode.ORDER_INACTIVE)
    assert (record.why_held, record.terminal) == ("locate", False)  # type: ignore[attr-defined]
    sc.feed(sc.status("o1", "Submitted"))
    sc.feed(sc.fill("o1", "100"))
    assert sc.order("o1").status is Status.FILLED


def test_a_cancel_of_a_held_order_waits_for_the_broker(sc: Scenario) -> None:
    sc.working("o1")
    _held(sc, "o1")
    sc.feed(RequestCancel(oms_id="o1"))
    assert sc.order("o1").status is Status.CANCEL_PENDING
    assert len(sc.commands(CancelOrder)) == 1
    _held(sc, "o1")  # still held: the cancel is not confirmed by it
    assert sc.order("o1").status is Status.CANCEL_PENDING
    sc.feed(sc.fill("o1", "40"))
    sc.feed(sc.status("o1", "Cancelled", filled="40", remaining="0"))
    order = sc.order("o1")
    assert (order.status, order.filled) == (Status.CANCELED, 40)


def test_a_bare_inactive_after_a_margin_reject_ends_the_order_rejected(sc: Scenario) -> None:
    sc.working("o1")
    text = "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED ... INITIAL MARGIN"
    sc.feed(BrokerError(req_id=sc.placed("o1").order_id, code=201, message=text))
    sc.feed(sc.status("o1", "Inactive"))
    assert sc.order("o1").status is Status.REJECTED
    (rejected,) = sc.records(LogCode.ORDER_REJECTED)
    assert rejected.error_code == 201  # type: ignore[attr-defined]
    (inactive,) = sc.records(LogCode.ORDER_INACTIVE)
    assert (inactive.why_held, inactive.terminal) == ("", True)  # type: ignore[attr-defined]
