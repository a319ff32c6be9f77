"""Bracket orders and OCA groups at the SimBroker: untransmitted orders wait for their chain,
children wait for the parent's fill, one child's fill cancels the other, a cancelled parent
takes its children along, an unknown parent is 10006."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ibguard.kit.sim import SimBroker
from ibguard.kit.sim import messages as ib
from sim_recording import Recorder, limit, quiet, stock

D = Decimal


def _stop(action: str, qty: int, price: str) -> ib.Order:
    return ib.Order(action=action, totalQuantity=D(qty), orderType="STP", auxPrice=D(price))


def _bracket(broker: SimBroker, s: object, entry: str) -> dict[int, object]:
    """ib_async's bracketOrder shape: parent and take-profit untransmitted, the stop transmits."""
    parent = replace(limit("BUY", 10, entry), transmit=False)
    take_profit = replace(limit("SELL", 10, "120"), parentId=1, transmit=False)
    stop_loss = replace(_stop("SELL", 10, "80"), parentId=1)
    s.place_order(1, stock(), parent)  # type: ignore[attr-defined]
    held = {o.order_id: o.status for o in broker.orders()}
    s.place_order(2, stock(), take_profit)  # type: ignore[attr-defined]
    s.place_order(3, stock(), stop_loss)  # type: ignore[attr-defined]
    return held


def _statuses(broker: SimBroker) -> dict[int, str]:
    return {o.order_id: o.status for o in broker.orders()}


def test_a_bracket_waits_for_its_transmitting_child_then_the_parent_fills_and_frees_the_rest() -> (
    None
):
    broker = quiet()
    s = broker.connect(7, Recorder())
    held = _bracket(broker, s, "100")  # marketable at the sim's 100.00
    assert held == {1: "PreSubmitted"}  # nothing traded before the chain was transmitted
    assert _statuses(broker) == {1: "Filled", 2: "Submitted", 3: "Submitted"}
    assert broker.position("AAPL") == D(10)


def test_children_wait_for_the_parent_and_one_childs_fill_cancels_the_other() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(7, rec)
    _bracket(broker, s, "90")  # the entry rests below the market
    assert _statuses(broker) == {1: "Submitted", 2: "PreSubmitted", 3: "PreSubmitted"}
    broker.set_price("AAPL", D("90"))  # the entry fills; the take-profit and stop start working
    assert _statuses(broker) == {1: "Filled", 2: "Submitted", 3: "Submitted"}
    broker.set_price("AAPL", D("121"))  # the take-profit fills: the stop is cancelled
    assert _statuses(broker) == {1: "Filled", 2: "Filled", 3: "Cancelled"}
    assert broker.position("AAPL") == D(0)
    assert [o.parentId for o in rec.of(ib.OrderStatus) if o.orderId == 3][-1] == 1


def test_cancelling_the_parent_cancels_its_children() -> None:
    broker = quiet()
    s = broker.connect(7, Recorder())
    _bracket(broker, s, "90")
    s.cancel_order(1)
    assert _statuses(broker) == {1: "Cancelled", 2: "Cancelled", 3: "Cancelled"}


def test_an_oca_group_cancels_the_rest_on_the_first_fill() -> None:
    broker = quiet()
    s = broker.connect(7, Recorder())
    s.place_order(1, stock(), replace(limit("BUY", 5, "95"), ocaGroup="g"))
    s.place_order(2, stock(), replace(limit("BUY", 5, "90"), ocaGroup="g"))
    broker.set_price("AAPL", D("95"))
    assert _statuses(broker) == {1: "Filled", 2: "Cancelled"}


def test_a_child_of_an_unknown_parent_is_10006_and_not_booked() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(5, stock(), replace(limit("SELL", 1, "120"), parentId=4))
    assert rec.errors() == [10006]
    assert broker.orders() == ()
