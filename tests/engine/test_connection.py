"""Disconnects, restarts and stale orders (CONN-01, CONN-02, CONN-03, CONN-04, CONN-05)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from ibguard.engine import (
    CancelOrder,
    Command,
    LogCode,
    PlaceOrder,
    RequestCompletedOrders,
    RequestExecutions,
    RequestOpenOrders,
    RequestPositions,
    Status,
)
from ibguard.engine.events import (
    BrokerError,
    CompletedOrdersSnapshot,
    ConnectionLost,
    ConnectionRestored,
    ExecutionsSnapshot,
    OpenOrdersSnapshot,
    RequestCancel,
    ServerTime,
)

from tests.engine.scenario import AAPL, Scenario


def _reconnect_and_answer(sc: Scenario, *, open_orders=(), completed=(), executions=()) -> None:
    sc.feed(ConnectionRestored(data_lost=True))
    sc.feed(OpenOrdersSnapshot(orders=tuple(open_orders)))
    sc.feed(CompletedOrdersSnapshot(orders=tuple(completed)))
    sc.feed(ExecutionsSnapshot(executions=tuple(executions)))


def test_CONN_01_order_lost_in_a_mid_submit_disconnect_stays_new_without_resubmission(
    sc: Scenario,
) -> None:
    sc.submit("o1")
    sc.feed(ConnectionLost(reason="socket closed"))
    order = sc.order("o1")
    assert order.status is Status.NEW
    assert order.broker_order_id is None
    assert order.perm_id is None
    assert order.pending_reconcile
    assert LogCode.SUBMIT_PENDING in sc.codes
    _reconnect_and_answer(sc)
    order = sc.order("o1")
    assert order.status is Status.NEW
    assert not order.pending_reconcile
    assert LogCode.RECONCILE_NO_BROKER_RECORD in sc.codes
    assert len(sc.commands(PlaceOrder)) == 1  # never resubmitted by the engine


def test_CONN_01_order_the_broker_received_is_recovered_with_its_broker_ids(sc: Scenario) -> None:
    sc.submit("o1")
    sent = sc.placed("o1")
    sc.feed(ConnectionLost())
    _reconnect_and_answer(sc, open_orders=[sc.open_order("o1", order_id=sent.order_id)])
    order = sc.order("o1")
    assert order.status is Status.WORKING
    assert order.recovered
    assert order.broker_order_id == sent.order_id
    assert order.perm_id == sc.perm_for("o1")
    assert LogCode.RECONCILE_RECOVERED in sc.codes
    assert len(sc.commands(PlaceOrder)) == 1


def test_CONN_01_resubmit_waits_for_reconcile_then_is_allowed(sc: Scenario) -> None:
    sc.submit("o1")
    sc.feed(ConnectionLost())
    assert sc.submit("o1") == []  # fate unknown: refused
    assert LogCode.ORDER_REFUSED in sc.codes
    _reconnect_and_answer(sc)
    assert [type(c) for c in sc.submit("o1")] == [PlaceOrder]
    assert sc.order("o1").status is Status.SUBMITTED


def test_CONN_01_commands_still_queued_by_the_throttle_never_left() -> None:
    from ibguard.engine import EngineConfig

    from tests.engine.scenario import ACCOUNT

    limited = Scenario(EngineConfig(account=ACCOUNT, client_id=7, max_messages_per_second=1))
    for _ in range(6):
        limited.tick(1)  # drain the connect-time requests
    assert limited.engine.queue_depth == 0
    limited.submit("a")
    limited.submit("b")  # over the limit: queued
    assert limited.engine.queue_depth == 1
    limited.feed(ConnectionLost())
    assert limited.order("b").status is Status.NEW
    assert not limited.order("b").pending_reconcile  # it never left: free to submit again
    assert limited.order("a").pending_reconcile


def test_CONN_02_orphan_fill_after_restart_synthesizes_the_order_once(sc: Scenario) -> None:
    execution = sc.fill("ghost", "50", "101.00", order_id=55, perm_id=4242, cum_qty="50")
    _reconnect_and_answer(sc, executions=[execution])
    sc.feed(execution)  # the live replay of the same execution
    order = sc.order("ghost")
    assert order.status is Status.FILLED
    assert order.recovered
    assert order.filled == Decimal(50)
    assert order.perm_id == 4242
    assert sc.engine.position(AAPL) == Decimal(50)
    assert LogCode.ORPHAN_FILL in sc.codes


def test_CONN_03_stale_working_order_asks_the_broker_and_clears_on_answer(sc: Scenario) -> None:
    sc.working("o1")
    sc.tick(299)
    assert not sc.order("o1").pending_reconcile
    commands = sc.tick(2)
    assert sc.order("o1").pending_reconcile
    assert RequestOpenOrders() in commands
    assert LogCode.STATUS_STALE in sc.codes
    sc.feed(OpenOrdersSnapshot(orders=(sc.open_order("o1"),)))
    sc.feed(CompletedOrdersSnapshot(), ExecutionsSnapshot())
    order = sc.order("o1")
    assert not order.pending_reconcile
    assert order.status is Status.WORKING


def test_CONN_03_stale_detection_ignores_orders_touched_since(sc: Scenario) -> None:
    sc.working("o1")
    sc.tick(200)
    sc.feed(sc.fill("o1", "10"))
    sc.tick(200)  # 400 s since submit, 200 s since the fill
    assert not sc.order("o1").pending_reconcile


def test_CONN_04_client_id_in_use_halts_and_sends_nothing_more(sc: Scenario) -> None:
    sc.feed(BrokerError(req_id=-1, code=326, message="client id is already in use"))
    assert sc.engine.halted
    assert sc.submit("o1") == []
    assert sc.feed(ConnectionRestored(data_lost=True)) == []
    assert LogCode.CONNECTION_STOLEN in sc.alerts.codes
    assert not sc.commands(PlaceOrder)


def test_CONN_04_orders_of_our_client_id_we_did_not_place_halt_the_engine(sc: Scenario) -> None:
    sc.working("o1")
    intruder = sc.open_order("x", order_ref="", order_id=9001, perm_id=777)
    sc.feed(intruder)
    assert sc.engine.halted
    assert sc.engine.halt_reason == LogCode.CONNECTION_STOLEN.value
    assert sc.feed(sc.fill("o1", "10")) == []
    assert sc.engine.order("x") is None


def test_CONN_05_skew_is_measured_and_logged_with_its_value(sc: Scenario) -> None:
    local = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)
    sc.feed(ServerTime(broker_time=local + timedelta(seconds=47.3), local_time=local))
    record = sc.records(LogCode.TIME_SKEW)[0]
    assert record.skew_seconds == Decimal("47.3")  # type: ignore[attr-defined]
    assert sc.engine.skew == 47.3
    assert sc.engine.broker_time(local) == local + timedelta(seconds=47.3)


def test_CONN_05_small_skew_is_not_an_alarm(sc: Scenario) -> None:
    local = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)
    sc.feed(ServerTime(broker_time=local + timedelta(seconds=2), local_time=local))
    assert LogCode.TIME_SKEW not in sc.codes


def test_CONN_05_eod_flatten_fires_at_broker_1550_not_local(sc: Scenario) -> None:
    sc.working("o1", "100")
    sc.feed(sc.fill("o1", "100"))
    # broker is 47.3 s ahead of the host: 15:50:00 New York broker time is 20:49:12.7 local UTC
    local = datetime(2026, 11, 24, 20, 49, 12, tzinfo=timezone.utc)
    sc.feed(ServerTime(broker_time=local + timedelta(seconds=47.3), local_time=local))
    from ibguard.engine.commands import RequestWhatIf
    from ibguard.engine.events import Tick

    sc.feed(Tick(now=sc.engine.broker_time(local)))
    assert not sc.commands(RequestWhatIf)
    sc.feed(Tick(now=sc.engine.broker_time(local + timedelta(seconds=0.7))))
    assert len(sc.commands(RequestWhatIf)) == 1


def test_reconnect_reconciles_in_order_open_completed_executions(sc: Scenario) -> None:
    sc.feed(ConnectionLost())
    assert sc.feed(ConnectionRestored(data_lost=True))[-1] == RequestOpenOrders()
    assert sc.feed(OpenOrdersSnapshot()) == [RequestCompletedOrders()]
    assert sc.feed(CompletedOrdersSnapshot()) == [RequestExecutions()]
    assert sc.feed(ExecutionsSnapshot()) == [RequestPositions()]


def test_connectivity_codes_1100_1101_1102(sc: Scenario) -> None:
    sc.feed(BrokerError(req_id=-1, code=1100, message="Connectivity between IB and TWS lost"))
    assert not sc.engine.connected
    assert sc.feed(BrokerError(req_id=-1, code=1102, message="restored, data maintained")) == [
        __import__("ibguard.engine", fromlist=["RequestServerTime"]).RequestServerTime()
    ]
    assert sc.engine.connected
    commands = sc.feed(BrokerError(req_id=-1, code=1101, message="restored, data lost"))
    assert RequestOpenOrders() in commands


def test_reconcile_asked_while_disconnected_runs_on_reconnect(sc: Scenario) -> None:
    from ibguard.engine.events import Reconcile

    sc.feed(ConnectionLost())
    assert sc.feed(Reconcile(reason="operator")) == []
    assert RequestOpenOrders() in sc.feed(ConnectionRestored(data_lost=False))


def test_second_reconcile_request_during_a_run_runs_after_it(sc: Scenario) -> None:
    from ibguard.engine.events import Reconcile

    assert sc.feed(Reconcile(reason="one")) == [RequestOpenOrders()]
    assert sc.feed(Reconcile(reason="two")) == []
    sc.feed(OpenOrdersSnapshot(), CompletedOrdersSnapshot())
    assert sc.feed(ExecutionsSnapshot()) == [RequestPositions(), RequestOpenOrders()]


def test_submit_before_connection_is_refused_and_kept_new() -> None:
    sc = Scenario(connect=False)
    assert sc.submit("o1") == []
    assert sc.order("o1").status is Status.NEW
    assert LogCode.ORDER_REFUSED in sc.codes


@pytest.mark.parametrize("meanwhile", ["fill", "status"])
def test_CONN_03_an_order_flagged_stale_that_moves_meanwhile_can_go_stale_again(
    sc: Scenario, meanwhile: str
) -> None:
    sc.working("o1")
    sc.tick(301)
    assert sc.order("o1").pending_reconcile
    # the broker speaks before the reconcile answers
    sc.feed(sc.fill("o1", "10") if meanwhile == "fill" else sc.status("o1", "PendingCancel"))
    sc.feed(OpenOrdersSnapshot(orders=(sc.open_order("o1"),)))
    sc.feed(CompletedOrdersSnapshot(), ExecutionsSnapshot())
    assert not sc.order("o1").pending_reconcile
    sc.tick(299)
    assert not sc.order("o1").pending_reconcile
    sc.tick(2)
    assert sc.order("o1").pending_reconcile
    assert len(sc.records(LogCode.STATUS_STALE)) == 2


def test_CONN_03_an_order_quiet_for_exactly_the_threshold_is_stale(sc: Scenario) -> None:
    sc.working("o1")
    sc.tick(300)  # stale_after is 5 minutes
    assert sc.order("o1").pending_reconcile
    assert LogCode.STATUS_STALE in sc.codes


def test_CONN_03_the_oldest_quiet_order_goes_stale_while_younger_ones_wait(sc: Scenario) -> None:
    sc.working("old")
    sc.tick(100)
    sc.working("young")
    sc.tick(201)  # 301 s since "old" moved, 201 s since "young" did
    assert sc.order("old").pending_reconcile
    assert not sc.order("young").pending_reconcile


def test_CONN_09_cancel_lost_with_the_socket_is_sent_again_once_when_the_broker_still_works_it(
    sc: Scenario,
) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    sent = sc.commands(CancelOrder)
    assert len(sent) == 1
    sc.feed(ConnectionLost(reason="socket closed"))
    assert sc.order("o1").status is Status.CANCEL_PENDING  # outcome unknown, nothing invented
    commands = _reconnect_and_answer_collect(sc, open_orders=[sc.open_order("o1")])
    again = [c for c in commands if isinstance(c, CancelOrder)]
    assert [(c.oms_id, c.order_id) for c in again] == [("o1", sent[0].order_id)]
    assert sc.order("o1").status is Status.CANCEL_PENDING
    # a second reconnect with the order still live: the cancel is not sent a third time
    sc.feed(ConnectionLost(reason="socket closed"))
    commands = _reconnect_and_answer_collect(sc, open_orders=[sc.open_order("o1")])
    assert not [c for c in commands if isinstance(c, CancelOrder)]


def test_CONN_09_cancel_the_broker_applied_before_the_drop_is_not_sent_again(
    sc: Scenario,
) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    sc.feed(ConnectionLost(reason="socket closed"))
    commands = _reconnect_and_answer_collect(sc, completed=[sc.open_order("o1", "Cancelled")])
    assert not [c for c in commands if isinstance(c, CancelOrder)]
    assert sc.order("o1").status is Status.CANCELED


def test_CONN_09_a_reconcile_without_a_reconnect_never_resends_a_pending_cancel(
    sc: Scenario,
) -> None:
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    sc.tick(301)  # a stale-order reconcile while the cancel is pending
    commands = sc.feed(OpenOrdersSnapshot(orders=(sc.open_order("o1"),)))
    commands += sc.feed(CompletedOrdersSnapshot(orders=()))
    commands += sc.feed(ExecutionsSnapshot(executions=()))
    assert len([c for c in sc.sent if isinstance(c, CancelOrder)]) == 1


def _reconnect_and_answer_collect(
    sc: Scenario, *, open_orders=(), completed=(), executions=()
) -> list[Command]:
    commands = sc.feed(ConnectionRestored(data_lost=True))
    commands += sc.feed(OpenOrdersSnapshot(orders=tuple(open_orders)))
    commands += sc.feed(CompletedOrdersSnapshot(orders=tuple(completed)))
    commands += sc.feed(ExecutionsSnapshot(executions=tuple(executions)))
    return commands


def test_CONN_03_health_counts_the_orders_awaiting_reconcile_and_clears_after_it(
    sc: Scenario,
) -> None:
    sc.working("o1")
    sc.tick(301)
    reasons = {check.name: check.reason for check in sc.engine.health().failures}
    assert reasons["stale_orders"] == "1 order(s) awaiting reconcile"
    sc.feed(OpenOrdersSnapshot(orders=(sc.open_order("o1"),)))
    sc.feed(CompletedOrdersSnapshot(), ExecutionsSnapshot())
    assert "stale_orders" not in {check.name for check in sc.engine.health().failures}
