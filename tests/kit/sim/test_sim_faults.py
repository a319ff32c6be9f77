"""SimBroker fault scripts: every trigger CASES.md needs, seen at the API session."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ibguard.errors import UsageError
from ibguard.kit.sim import (
    ApiSession,
    BrokerConfig,
    DropConnection,
    FillPlan,
    HaltMode,
    LateFillOnCancel,
    RefuseCancel,
    RejectOrder,
    SimBroker,
    WhatIfAnswer,
)
from ibguard.kit.sim import messages as ib
from sim_recording import Recorder, limit, market, stock

D = Decimal


@pytest.fixture
def broker() -> SimBroker:
    return SimBroker(BrokerConfig(farm_status_messages=False))


def connected(broker: SimBroker, client_id: int = 7) -> tuple[ApiSession, Recorder]:
    rec = Recorder()
    return broker.connect(client_id, rec), rec


def test_fill_then_duplicate_the_same_execution(broker: SimBroker) -> None:
    broker.script.arm(FillPlan(fills=((D(30), D("100.10")),), duplicate_last=True))
    s, rec = connected(broker)
    s.place_order(1, stock(), limit("BUY", 100, "101"))
    first, again = rec.of(ib.ExecDetails)
    assert first == again
    assert len(rec.of(ib.CommissionReport)) == 2
    assert broker.position("AAPL") == D(30)  # booked once at the broker
    assert broker.live_orders()[0].remaining == D(70)


def test_ten_partial_fills_at_given_prices(broker: SimBroker) -> None:
    prices = [D("100.10") + D(i) / 100 for i in range(10)]
    broker.script.arm(FillPlan(fills=tuple((D(10), p) for p in prices)))
    s, rec = connected(broker)
    s.place_order(1, stock(), limit("BUY", 100, "200"))
    execs = rec.of(ib.ExecDetails)
    assert [e.execution.price for e in execs] == prices
    assert execs[-1].execution.cumQty == D(100)
    assert execs[-1].execution.avgPrice == sum(prices) / 10
    assert rec.of(ib.OrderStatus)[-1].status == "Filled"


def test_execution_before_status_ordering(broker: SimBroker) -> None:
    broker.script.arm(FillPlan(fills=((D(5), D(100)),), exec_before_status=True))
    s, rec = connected(broker)
    rec.clear()
    s.place_order(1, stock(), limit("BUY", 10, "100"))
    assert rec.kinds() == [
        "OpenOrder",
        "OrderStatus",
        "ExecDetails",
        "CommissionReport",
        "OrderStatus",
    ]


def test_zero_share_and_negative_price_executions_can_be_sent(broker: SimBroker) -> None:
    s, rec = connected(broker)
    s.place_order(1, stock(), limit("BUY", 10, "1"))
    perm_id = broker.live_orders()[0].perm_id
    broker.fill(perm_id, D(0), D(1))
    broker.fill(perm_id, D(10), D("-0.01"))
    zero, negative = rec.of(ib.ExecDetails)
    assert zero.execution.shares == 0
    assert negative.execution.price == D("-0.01")


def test_correction_bumps_the_last_exec_id_part(broker: SimBroker) -> None:
    s, rec = connected(broker)
    s.place_order(1, stock(), market("BUY", 10))
    (orig,) = rec.of(ib.ExecDetails)
    new_id = broker.correct_execution(orig.execution.execId, price=D("99.95"))
    assert new_id == orig.execution.execId[:-2] + "02"
    corrected = rec.of(ib.ExecDetails)[-1].execution
    assert (corrected.execId, corrected.price, corrected.shares) == (new_id, D("99.95"), D(10))
    assert broker.position("AAPL") == D(10)


@pytest.mark.parametrize("received", [True, False])
def test_drop_after_next_place_order(broker: SimBroker, received: bool) -> None:
    broker.script.arm(DropConnection(received=received))
    s, rec = connected(broker)
    rec.clear()
    s.place_order(1, stock(), limit("BUY", 10, "1", ref="oms:1"))
    assert [type(m) for m in rec.messages] == [ib.Disconnected]
    assert len(broker.orders_by_ref("oms:1")) == (1 if received else 0)
    assert len(broker.requests.placed()) == (1 if received else 0)


def test_reject_next_order_with_code_and_text(broker: SimBroker) -> None:
    broker.script.arm(RejectOrder(code=201, text="Order rejected - reason:margin", symbol="TSLA"))
    s, rec = connected(broker)
    s.place_order(1, stock("AAPL"), market("SELL", 1))
    s.place_order(2, stock("TSLA"), market("SELL", 1))
    assert rec.errors() == [201]
    assert rec.of(ib.OrderStatus)[-1].status == "Inactive"
    assert broker.position("AAPL") == D(-1)
    assert broker.position("TSLA") == D(0)
    assert broker.script.pending == ()


def test_refused_cancel_because_the_fill_raced_it(broker: SimBroker) -> None:
    broker.script.arm(RefuseCancel(price=D("100.05")))
    s, rec = connected(broker)
    s.place_order(1, stock(), limit("BUY", 10, "50"))
    rec.clear()
    s.cancel_order(1)
    assert rec.kinds() == ["OpenOrder", "OrderStatus", "ExecDetails", "CommissionReport", "Error"]
    err = rec.of(ib.Error)[0]
    assert err.errorCode == 10148
    assert "Filled" in err.errorString


@pytest.mark.parametrize(("code", "says"), [(10147, "is not found"), (161, "cancellable state")])
def test_a_cancel_refused_with_10147_or_161_leaves_the_order_as_it_was(
    broker: SimBroker, code: int, says: str
) -> None:
    broker.script.arm(RefuseCancel(code=code))
    s, rec = connected(broker)
    s.place_order(1, stock(), limit("BUY", 10, "50"))
    rec.clear()
    s.cancel_order(1)
    assert rec.kinds() == ["Error"]
    err = rec.of(ib.Error)[0]
    assert (err.reqId, err.errorCode) == (1, code)
    assert says in err.errorString
    assert [o.order_id for o in broker.live_orders()] == [1]  # still works
    s.cancel_order(1)  # the refusal was for one cancel only
    assert rec.of(ib.OrderStatus)[-1].status == "Cancelled"


def test_refuse_cancel_names_the_codes_it_can_play() -> None:
    with pytest.raises(UsageError, match="161, 10147, 10148"):
        RefuseCancel(code=202)


def test_late_fill_after_cancel_confirmed(broker: SimBroker) -> None:
    broker.script.arm(LateFillOnCancel(shares=D(4), price=D("49.90")))
    s, rec = connected(broker)
    s.place_order(1, stock(), limit("BUY", 10, "50"))
    broker.advance(30)
    rec.clear()
    s.cancel_order(1)
    assert rec.kinds() == ["Error", "OrderStatus", "ExecDetails", "CommissionReport"]
    assert rec.of(ib.OrderStatus)[0].status == "Cancelled"
    late = rec.of(ib.ExecDetails)[0].execution
    assert late.time < broker.clock.broker_now()
    assert broker.position("AAPL") == D(4)


def test_halted_symbol_rejects_or_never_fills(broker: SimBroker) -> None:
    broker.halt("AAPL")
    broker.halt("MSFT", HaltMode.NO_FILL)
    s, rec = connected(broker)
    s.place_order(1, stock("AAPL"), market("SELL", 1))
    s.place_order(2, stock("MSFT"), market("SELL", 1))
    assert rec.errors() == [201]
    assert [o.contract.symbol for o in broker.live_orders()] == ["MSFT"]
    broker.resume("MSFT")
    assert broker.position("MSFT") == D(-1)


def test_what_if_answers_margin_violation(broker: SimBroker) -> None:
    broker.set_what_if(WhatIfAnswer(margin_ok=False))
    s, rec = connected(broker)
    s.place_order(
        900, stock(), ib.Order(action="SELL", totalQuantity=D(5), orderType="MKT", whatIf=True)
    )
    (answer,) = rec.of(ib.OpenOrder)
    state = answer.orderState
    assert answer.order.whatIf
    assert state.initMarginAfter is not None
    assert state.equityWithLoanAfter is not None
    assert state.initMarginAfter > state.equityWithLoanAfter
    assert broker.orders() == ()  # a what-if is not an order
    assert broker.requests.placed() == ()


def test_foreign_order_from_client_zero_is_visible_to_all_open_orders(broker: SimBroker) -> None:
    s, rec = connected(broker)
    order = broker.inject_order(
        client_id=0, symbol="AAPL", action="BUY", quantity=D(5), order_type="MKT"
    )
    broker.fill(order.perm_id, D(5), D(100))
    assert rec.of(ib.ExecDetails) == []  # not our clientId
    s.req_executions(1)
    assert rec.of(ib.ExecDetails)[0].execution.clientId == 0


def test_broadcast_foreign_order_reaches_the_algo_session(broker: SimBroker) -> None:
    _, rec = connected(broker)
    order = broker.inject_order(
        client_id=0, symbol="AAPL", action="BUY", quantity=D(5), order_type="MKT", broadcast=True
    )
    broker.fill(order.perm_id, D(5), D(100))
    assert rec.of(ib.ExecDetails)[0].execution.clientId == 0


def test_orphan_execution_of_ours_is_reported_after_restart(broker: SimBroker) -> None:
    order = broker.inject_order(
        client_id=7,
        symbol="AAPL",
        action="BUY",
        quantity=D(5000),
        order_type="MKT",
        order_ref="ibg:X9",
    )
    broker.fill(order.perm_id, D(5000), D(100))
    s, rec = connected(broker)
    s.req_executions(3)
    (ex,) = rec.of(ib.ExecDetails)
    assert (ex.reqId, ex.execution.orderRef, ex.execution.shares) == (3, "ibg:X9", D(5000))


def test_switch_account_tells_every_session(broker: SimBroker) -> None:
    _, rec = connected(broker)
    broker.switch_account("DU7654321")
    assert rec.messages[-1] == ib.ManagedAccounts(accountsList="DU7654321")


def test_stalled_order_sends_nothing_live_but_shows_in_open_orders(broker: SimBroker) -> None:
    s, rec = connected(broker)
    s.place_order(1, stock(), limit("BUY", 10, "50"))
    broker.stall(broker.live_orders()[0].perm_id)
    rec.clear()
    broker.set_price("AAPL", D(49))
    assert rec.messages == []
    assert broker.position("AAPL") == D(10)
    s.req_all_open_orders()
    assert rec.kinds() == ["OpenOrderEnd"]  # it filled silently


def test_renamed_symbol_stops_resolving(broker: SimBroker) -> None:
    s, rec = connected(broker)
    listing = broker.contracts.resolve("IBM")
    assert listing is not None
    old_con_id = listing.contract.conId
    broker.rename_contract("IBM", "IBM2")
    s.place_order(1, stock("IBM"), market("BUY", 1))
    assert rec.errors() == [200]
    s.req_contract_details(5, ib.Contract(conId=old_con_id))
    (details,) = rec.of(ib.ContractDetails)
    assert details.contract.symbol == "IBM2"


def test_execution_before_any_acknowledgement(broker: SimBroker) -> None:
    broker.script.arm(
        FillPlan(fills=((D(10), D(100)),), exec_before_status=True, before_acknowledgement=True)
    )
    s, rec = connected(broker)
    rec.clear()
    s.place_order(1, stock(), limit("BUY", 10, "100"))
    assert rec.kinds() == ["ExecDetails", "CommissionReport", "OpenOrder", "OrderStatus"]
    assert rec.of(ib.OrderStatus)[-1].status == "Filled"
