"""SimBroker as a quiet paper account: placing, filling, cancelling, reporting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim import messages as ib
from sim_recording import Recorder, limit, market, stock


@pytest.fixture
def broker() -> SimBroker:
    return SimBroker(BrokerConfig(farm_status_messages=False))


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


def test_connect_sends_managed_accounts_then_next_valid_id(
    broker: SimBroker, rec: Recorder
) -> None:
    broker.connect(7, rec)
    assert rec.messages == [
        ib.ManagedAccounts(accountsList="DU1234567"),
        ib.NextValidId(orderId=1),
    ]


def test_market_order_fills_at_once_in_tws_message_order(broker: SimBroker, rec: Recorder) -> None:
    broker.set_price("AAPL", Decimal("187.25"))
    s = broker.connect(7, rec)
    rec.clear()
    s.place_order(1, stock(), market("BUY", 100, ref="oms:A1"))
    assert rec.kinds() == [
        "OpenOrder",
        "OrderStatus",
        "OpenOrder",
        "OrderStatus",
        "ExecDetails",
        "CommissionReport",
    ]
    first, filled = rec.of(ib.OrderStatus)
    assert first.status == "Submitted"
    assert (filled.status, filled.filled, filled.remaining) == ("Filled", Decimal(100), Decimal(0))
    assert filled.avgFillPrice == Decimal("187.25")
    (exec_msg,) = rec.of(ib.ExecDetails)
    assert exec_msg.reqId == -1
    assert exec_msg.execution.side == "BOT"
    assert exec_msg.execution.orderRef == "oms:A1"
    assert exec_msg.execution.permId == first.permId > 0
    assert rec.of(ib.CommissionReport)[0].execId == exec_msg.execution.execId
    assert broker.position("AAPL") == Decimal(100)


def test_exec_ids_look_like_ib_and_are_unique(broker: SimBroker, rec: Recorder) -> None:
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 1))
    s.place_order(2, stock(), market("SELL", 1))
    ids = [m.execution.execId for m in rec.of(ib.ExecDetails)]
    assert len(set(ids)) == 2
    for exec_id in ids:
        parts = exec_id.split(".")
        assert len(parts) == 4
        assert parts[-1] == "01"


def test_perm_ids_are_unique_and_increasing_across_clients(broker: SimBroker) -> None:
    a, b = Recorder(), Recorder()
    sa, sb = broker.connect(1, a), broker.connect(2, b)
    sa.place_order(1, stock(), limit("BUY", 1, "1"))
    sb.place_order(1, stock(), limit("BUY", 1, "1"))
    sa.place_order(2, stock(), limit("BUY", 1, "1"))
    perm_ids = [o.perm_id for o in broker.orders()]
    assert perm_ids == sorted(perm_ids)
    assert len(set(perm_ids)) == 3


def test_non_marketable_limit_rests_until_the_price_comes(broker: SimBroker, rec: Recorder) -> None:
    broker.set_price("AAPL", Decimal("100"))
    s = broker.connect(7, rec)
    s.place_order(1, stock(), limit("BUY", 10, "99.50"))
    assert [m.status for m in rec.of(ib.OrderStatus)] == ["Submitted"]
    broker.set_price("AAPL", Decimal("99.40"))
    assert [m.status for m in rec.of(ib.OrderStatus)] == ["Submitted", "Filled"]
    assert rec.of(ib.ExecDetails)[0].execution.price == Decimal("99.40")


def test_cancel_answers_202_then_cancelled(broker: SimBroker, rec: Recorder) -> None:
    s = broker.connect(7, rec)
    s.place_order(1, stock(), limit("BUY", 10, "50"))
    rec.clear()
    s.cancel_order(1)
    assert rec.kinds() == ["Error", "OrderStatus"]
    assert rec.of(ib.Error)[0].errorCode == 202
    assert rec.of(ib.OrderStatus)[0].status == "Cancelled"


def test_cancel_of_filled_order_is_refused_with_the_real_state(
    broker: SimBroker, rec: Recorder
) -> None:
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 10))
    rec.clear()
    s.cancel_order(1)
    (err,) = rec.of(ib.Error)
    assert (err.reqId, err.errorCode) == (1, 10148)
    assert "Filled" in err.errorString


def test_cancel_of_unknown_order_answers_10147(broker: SimBroker, rec: Recorder) -> None:
    s = broker.connect(7, rec)
    s.cancel_order(42)
    assert rec.errors() == [10147]


def test_placing_a_filled_orders_id_again_is_error_104(broker: SimBroker, rec: Recorder) -> None:
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 1))  # fills at once: the id is done, not live
    s.place_order(1, stock(), limit("BUY", 1, "1"))
    assert rec.errors() == [104]  # Can't modify a filled order
    assert len(broker.orders()) == 1


def test_reusing_a_cancelled_orders_id_the_same_day_is_error_103(
    broker: SimBroker, rec: Recorder
) -> None:
    s = broker.connect(7, rec)
    s.place_order(1, stock(), limit("BUY", 1, "1"))
    s.cancel_order(1)
    rec.clear()
    s.place_order(1, stock(), limit("BUY", 1, "2"))
    assert rec.errors() == [103]
    assert len(broker.orders()) == 1


def test_placing_a_live_orders_id_again_modifies_it(broker: SimBroker, rec: Recorder) -> None:
    s = broker.connect(7, rec)
    s.place_order(1, stock(), limit("BUY", 5, "1"))
    rec.clear()
    s.place_order(1, stock(), limit("BUY", 8, "2", tif="GTC"))
    assert rec.errors() == []
    (order,) = broker.orders()
    assert (order.quantity, order.lmt_price, order.tif) == (Decimal(8), Decimal(2), "GTC")
    assert rec.kinds() == ["OpenOrder", "OrderStatus"]  # TWS re-announces the order
    s.place_order(1, stock(), limit("BUY", 8, "150"))  # now marketable: it fills
    assert order.status == "Filled"


def test_open_orders_answer_lists_live_orders_with_status_then_end(
    broker: SimBroker, rec: Recorder
) -> None:
    s = broker.connect(7, rec)
    s.place_order(1, stock(), limit("BUY", 10, "50", ref="r1"))
    s.place_order(2, stock(), market("BUY", 10))
    rec.clear()
    s.req_open_orders()
    assert rec.kinds() == ["OpenOrder", "OrderStatus", "OpenOrderEnd"]
    assert rec.of(ib.OpenOrder)[0].order.orderRef == "r1"


def test_completed_orders_carry_status_and_broker_time(broker: SimBroker, rec: Recorder) -> None:
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 10, ref="a"))
    s.place_order(2, stock(), limit("BUY", 10, "1", ref="b"))
    broker.advance(5)
    s.cancel_order(2)
    rec.clear()
    s.req_completed_orders()
    done = rec.of(ib.CompletedOrder)
    assert [(c.order.orderRef, c.orderState.status) for c in done] == [
        ("a", "Filled"),
        ("b", "Cancelled"),
    ]
    assert done[1].orderState.completedTime == broker.clock.broker_now()
    assert done[0].order.orderId == 0  # completedOrder carries no orderId on the wire
    assert isinstance(rec.messages[-1], ib.CompletedOrdersEnd)


def test_executions_answer_carries_req_id_and_commissions(broker: SimBroker, rec: Recorder) -> None:
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 300))
    rec.clear()
    s.req_executions(77)
    assert rec.kinds() == ["ExecDetails", "CommissionReport", "ExecDetailsEnd"]
    assert rec.of(ib.ExecDetails)[0].reqId == 77
    assert rec.of(ib.CommissionReport)[0].commission == Decimal("1.50")


def test_positions_answer_per_account_then_end(broker: SimBroker, rec: Recorder) -> None:
    s = broker.connect(7, rec)
    s.place_order(1, stock("MSFT"), market("SELL", 20))
    rec.clear()
    s.req_positions()
    (pos,) = rec.of(ib.Position)
    assert (pos.account, pos.contract.symbol, pos.position) == ("DU1234567", "MSFT", Decimal(-20))
    assert isinstance(rec.messages[-1], ib.PositionEnd)


def test_current_time_is_broker_time(broker: SimBroker, rec: Recorder) -> None:
    s = broker.connect(7, rec)
    broker.advance(90)
    s.req_current_time()
    assert rec.of(ib.CurrentTime)[0].time == broker.clock.broker_now()


def test_new_day_allows_yesterdays_order_id_and_keeps_gtc_orders(broker: SimBroker) -> None:
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(5, stock(), limit("BUY", 1, "1", tif="GTC"))
    s.place_order(6, stock(), limit("BUY", 1, "1"))
    broker.new_day()
    broker.force_next_order_id(7, 5)
    rec.clear()
    s.req_ids()
    assert rec.of(ib.NextValidId)[0].orderId == 5
    s.place_order(5, stock(), limit("BUY", 1, "1", ref="today"))
    assert 103 not in rec.errors()
    live = {(o.order_id, o.order_ref, o.tif) for o in broker.live_orders()}
    assert live == {(5, "", "GTC"), (5, "today", "DAY")}


def test_next_order_id_can_be_put_at_the_int32_limit(broker: SimBroker, rec: Recorder) -> None:
    broker.force_next_order_id(7, 2**31 - 1)
    s = broker.connect(7, rec)
    assert rec.of(ib.NextValidId)[0].orderId == 2**31 - 1
    s.place_order(2**31 - 1, stock(), limit("BUY", 1, "1"))
    s.place_order(2**31, stock(), limit("BUY", 1, "1"))
    assert rec.errors() == [321]
