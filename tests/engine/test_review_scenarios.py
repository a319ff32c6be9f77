"""Scenarios that once went wrong: each names the money it would have cost."""

from __future__ import annotations

from decimal import Decimal

from ibguard.engine import (
    CancelOrder,
    EngineConfig,
    LogCode,
    PlaceOrder,
    RequestOpenOrders,
    Status,
)
from ibguard.engine.events import (
    BrokerError,
    CompletedOrdersSnapshot,
    ConnectionRestored,
    ExecutionsSnapshot,
    NextValidId,
    OpenOrdersSnapshot,
    PositionReport,
    PositionsSnapshot,
    RequestCancel,
)

from tests.engine.scenario import AAPL, ACCOUNT, Scenario


def test_FAIL_06_order_the_broker_reports_filled_is_filled_and_never_resubmitted() -> None:
    monday = Scenario(connect=False)
    monday.feed(NextValidId(order_id=1), ConnectionRestored(data_lost=True))
    friday = monday.open_order("g1", "Filled", order_id=40, perm_id=4711)
    monday.feed(
        OpenOrdersSnapshot(), CompletedOrdersSnapshot(orders=(friday,)), ExecutionsSnapshot()
    )
    assert monday.order("g1").status is Status.FILLED
    assert monday.order("g1").recovered
    assert monday.submit("g1") == []  # a second broker order for g1 would double the position


def test_broker_filled_status_before_its_executions_still_counts_every_fill(
    sc: Scenario,
) -> None:
    sc.working("o1")
    sc.feed(sc.status("o1", "Filled", filled="100", remaining="0"))
    assert sc.order("o1").status is Status.FILLED
    sc.feed(sc.fill("o1", "60"), sc.fill("o1", "40"))
    assert sc.order("o1").filled == Decimal(100)
    assert sc.engine.position(AAPL) == Decimal(100)
    assert LogCode.OVERFILL not in sc.codes


def test_CONN_02_orphan_with_several_executions_grows_instead_of_overfilling(
    sc: Scenario,
) -> None:
    sc.feed(sc.fill("ghost", "30", order_id=55, perm_id=4242, cum_qty="30"))
    sc.feed(sc.fill("ghost", "20", order_id=55, perm_id=4242, cum_qty="50"))
    order = sc.order("ghost")
    assert order.quantity == Decimal(50)
    assert order.filled == Decimal(50)
    assert not order.overfilled
    assert LogCode.OVERFILL not in sc.codes
    assert sc.engine.position(AAPL) == Decimal(50)


def test_CONN_01_submit_in_doubt_is_settled_even_when_the_restore_kept_its_data(
    sc: Scenario,
) -> None:
    sc.submit("o1")
    sc.feed(BrokerError(req_id=-1, code=1100, message="connectivity lost"))
    commands = sc.feed(BrokerError(req_id=-1, code=1102, message="restored, data maintained"))
    assert RequestOpenOrders() in commands
    sc.feed(OpenOrdersSnapshot(), CompletedOrdersSnapshot(), ExecutionsSnapshot())
    assert not sc.order("o1").pending_reconcile
    assert sc.order("o1").status is Status.NEW


def test_CONN_04_halt_undoes_orders_still_waiting_for_the_rate_limit() -> None:
    sc = Scenario(EngineConfig(account=ACCOUNT, client_id=7, max_messages_per_second=1))
    for _ in range(7):
        sc.tick(1)
    sc.submit("sent")
    sc.submit("queued")
    sc.feed(BrokerError(req_id=-1, code=326, message="client id in use"))
    assert sc.order("queued").status is Status.NEW
    assert sc.order("queued").broker_order_id is None
    assert [c.oms_id for c in sc.commands(PlaceOrder)] == ["sent"]


def test_halt_drops_queued_requests_of_any_kind() -> None:
    sc = Scenario(EngineConfig(account=ACCOUNT, client_id=7, max_messages_per_second=1))
    assert sc.engine.queue_depth > 0  # the connect-time requests still wait
    sc.feed(BrokerError(req_id=-1, code=326, message="client id in use"))
    assert sc.engine.queue_depth == 0


def test_OPS_02_manual_trades_in_other_accounts_do_not_fake_a_mismatch(sc: Scenario) -> None:
    sc.feed(
        sc.fill("m", "100", order_ref="", client_id=0, order_id=0, perm_id=6001, account="U999")
    )
    sc.feed(
        PositionsSnapshot(
            positions=(PositionReport(account=ACCOUNT, instrument=AAPL, quantity=Decimal(0)),)
        )
    )
    assert sc.engine.health().healthy


def test_late_duplicate_id_error_keeps_a_working_orders_ids(sc: Scenario) -> None:
    sc.working("o1")
    order_id = sc.placed("o1").order_id
    sc.feed(BrokerError(req_id=order_id, code=103, message="Duplicate order id"))
    assert sc.order("o1").broker_order_id == order_id
    assert [type(c) for c in sc.feed(RequestCancel(oms_id="o1"))] == [CancelOrder]


def test_a_second_broker_order_for_one_oms_id_is_an_alert_and_its_fills_count(
    sc: Scenario,
) -> None:
    sc.working("o1")
    sc.feed(sc.open_order("o1", perm_id=777777))  # same orderRef, another broker order
    assert LogCode.DUPLICATE_BROKER_ORDER in sc.alerts.codes
    sc.feed(sc.fill("o1", "100", perm_id=777777))
    assert sc.engine.position(AAPL) == Decimal(100)


def test_recovered_order_in_a_status_the_engine_does_not_know_is_never_resubmitted(
    sc: Scenario,
) -> None:
    sc.feed(sc.open_order("odd", "SomeNewTwsStatus", order_id=61, perm_id=6161))
    assert sc.order("odd").status is Status.NEW
    assert sc.submit("odd") == []
    assert not [c for c in sc.commands(PlaceOrder) if c.oms_id == "odd"]


def test_recovered_order_with_a_pending_cancel_is_live(sc: Scenario) -> None:
    sc.feed(sc.open_order("pc", "PendingCancel", order_id=62, perm_id=6262))
    assert sc.order("pc").status is Status.WORKING
