"""Halts, contract changes, the throttle and health (SEC-02, EDGE-02, EDGE-04, OPS-02)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from ibguard.engine import (
    CancelOrder,
    EngineConfig,
    Instrument,
    LogCode,
    PlaceOrder,
    Status,
)
from ibguard.engine.events import (
    ConnectionLost,
    ContractDetails,
    FlattenAll,
    ManagedAccounts,
    PositionReport,
    PositionsSnapshot,
    RequestCancel,
    Tick,
)

from tests.engine.scenario import AAPL, ACCOUNT, Scenario


def test_SEC_02_account_switch_halts_trading(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(ManagedAccounts(accounts=("FU999",)))
    assert sc.engine.halted
    assert sc.engine.halt_reason == LogCode.ACCOUNT_MISMATCH.value
    assert sc.submit("o2") == []
    assert sc.feed(RequestCancel(oms_id="o1")) == []
    assert sc.feed(FlattenAll(reason="eod")) == []
    assert LogCode.ACCOUNT_MISMATCH in sc.alerts.codes
    assert len(sc.commands(PlaceOrder)) == 1


def test_SEC_02_our_order_reporting_another_account_halts(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.fill("o1", "10", account="FU999"))
    assert sc.engine.halted
    assert sc.order("o1").filled == 0


def test_SEC_02_foreign_orders_in_other_accounts_do_not_halt(sc: Scenario) -> None:
    sc.feed(sc.open_order("m", order_ref="", client_id=0, account="FU999", perm_id=1))
    assert not sc.engine.halted


def test_EDGE_02_symbol_change_cancels_old_working_orders(sc: Scenario) -> None:
    sc.working("o1")
    sc.working("o2")
    sc.feed(sc.fill("o2", "100"))
    ibm2 = Instrument(symbol="AAPL2", con_id=AAPL.con_id)
    commands = sc.feed(ContractDetails(instrument=ibm2))
    assert [c.oms_id for c in commands if isinstance(c, CancelOrder)] == ["o1"]
    assert LogCode.CONTRACT_CHANGED in sc.alerts.codes
    sc.feed(sc.status("o1", "Cancelled"))
    assert sc.order("o1").status is Status.CANCELED
    assert sc.engine.position(ibm2) == Decimal(100)
    assert sc.engine.position(AAPL) == 0


def test_EDGE_02_previous_symbol_names_the_old_contract(sc: Scenario) -> None:
    sc.working("o1")
    renamed = Instrument(symbol="NEWCO", con_id=999)
    commands = sc.feed(ContractDetails(instrument=renamed, previous_symbol="AAPL"))
    assert [type(c) for c in commands] == [CancelOrder]


def test_EDGE_02_unchanged_contract_details_change_nothing(sc: Scenario) -> None:
    sc.working("o1")
    assert sc.feed(ContractDetails(instrument=AAPL)) == []
    assert LogCode.CONTRACT_CHANGED not in sc.codes


def test_EDGE_04_over_the_rate_limit_commands_queue_in_order_and_drain() -> None:
    sc = Scenario(EngineConfig(account=ACCOUNT, client_id=7, max_messages_per_second=200))
    sc.tick(2)
    sent: list[PlaceOrder] = []
    for n in range(250):
        sent += [c for c in sc.submit(f"o{n}") if isinstance(c, PlaceOrder)]
    assert len(sent) == 200
    assert sc.engine.queue_depth == 50
    assert sc.records(LogCode.RATE_LIMIT)[-1].queued == 50  # type: ignore[attr-defined]
    assert sc.tick(0.5) == []
    later = [c for c in sc.tick(0.6) if isinstance(c, PlaceOrder)]
    assert len(later) == 50
    assert [p.oms_id for p in sent + later] == [f"o{n}" for n in range(250)]
    assert sc.engine.queue_depth == 0


def test_OPS_02_health_fails_when_engine_and_broker_positions_disagree(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.fill("o1", "100"))
    sc.feed(
        PositionsSnapshot(
            positions=(PositionReport(account=ACCOUNT, instrument=AAPL, quantity=Decimal(100)),)
        )
    )
    assert sc.engine.health().healthy
    sc.feed(PositionReport(account=ACCOUNT, instrument=AAPL, quantity=Decimal(90)))
    report = sc.engine.health()
    assert not report.healthy
    assert [c.name for c in report.failures] == ["positions"]
    assert "AAPL" in report.failures[0].reason
    assert LogCode.HEALTH_POSITION_MISMATCH in sc.alerts.codes


def test_OPS_02_positions_of_other_accounts_are_not_compared(sc: Scenario) -> None:
    sc.feed(
        PositionsSnapshot(
            positions=(PositionReport(account="OTHER", instrument=AAPL, quantity=Decimal(5)),)
        )
    )
    assert sc.engine.health().healthy
    assert sc.engine.broker_positions() == ()


def test_OPS_02_foreign_fills_are_expected_in_broker_positions(sc: Scenario) -> None:
    sc.feed(sc.fill("m", "25", order_ref="", client_id=0, order_id=0, perm_id=6001))
    sc.feed(
        PositionsSnapshot(
            positions=(PositionReport(account=ACCOUNT, instrument=AAPL, quantity=Decimal(25)),)
        )
    )
    assert sc.engine.health().healthy


def test_OPS_02_not_flat_at_0400_is_unhealthy_until_flat(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.fill("o1", "100"))
    sc.feed(Tick(now=datetime(2026, 11, 25, 8, 59, tzinfo=timezone.utc)))
    sc.feed(Tick(now=datetime(2026, 11, 25, 9, 0, 1, tzinfo=timezone.utc)))  # 04:00:01 New York
    report = sc.engine.health()
    assert [c.name for c in report.failures] == ["overnight_flat"]
    assert LogCode.HEALTH_POSITION_MISMATCH in sc.alerts.codes
    sc.working("close", "100", side=__import__("ibguard.engine", fromlist=["Side"]).Side.SELL)
    sc.feed(sc.fill("close", "100", side=__import__("ibguard.engine", fromlist=["Side"]).Side.SELL))
    assert sc.engine.health().healthy


def test_OPS_02_flat_at_0400_is_healthy(sc: Scenario) -> None:
    sc.feed(Tick(now=datetime(2026, 11, 25, 8, 59, tzinfo=timezone.utc)))
    sc.feed(Tick(now=datetime(2026, 11, 25, 9, 0, 1, tzinfo=timezone.utc)))
    assert sc.engine.health().healthy


def test_health_reports_disconnection_halts_and_stale_orders(sc: Scenario) -> None:
    sc.submit("o1")
    sc.feed(ConnectionLost())
    names = {c.name for c in sc.engine.health().failures}
    assert names == {"connected", "stale_orders"}
    sc.feed(ManagedAccounts(accounts=("X",)))
    assert "halted" in {c.name for c in sc.engine.health().failures}


def test_views_and_metrics_sources(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.fill("o1", "40"))
    counts = sc.engine.status_counts()
    assert counts[Status.PARTIALLY_FILLED] == 1
    assert sc.engine.fills_total == 1
    assert sc.engine.now is not None
    assert sc.engine.skew is None
    assert len(sc.engine.orders()) == 1
    assert sc.engine.order("missing") is None


def test_fill_rate_is_reported_per_tick(sc: Scenario) -> None:
    sc.working("o1", "1000")
    for _ in range(150):
        sc.feed(sc.fill("o1", "1"))
    sc.tick(1)
    record = sc.records(LogCode.FILL_RATE)[-1]
    assert record.fills == 150  # type: ignore[attr-defined]
    assert record.per_second == Decimal("150.0")  # type: ignore[attr-defined]


def test_EDGE_02_reconcile_asks_the_broker_for_contracts_of_working_orders(sc: Scenario) -> None:
    from ibguard.engine import RequestContractDetails
    from ibguard.engine.events import (
        CompletedOrdersSnapshot,
        ExecutionsSnapshot,
        OpenOrdersSnapshot,
        Reconcile,
    )

    sc.working("o1")
    sc.feed(Reconcile(reason="startup"))
    sc.feed(OpenOrdersSnapshot(orders=(sc.open_order("o1"),)), CompletedOrdersSnapshot())
    commands = sc.feed(ExecutionsSnapshot())
    assert RequestContractDetails(instrument=AAPL) in commands


def test_OPS_02_live_position_updates_before_the_first_full_snapshot_are_not_judged(
    sc: Scenario,
) -> None:
    sc.feed(PositionReport(account=ACCOUNT, instrument=AAPL, quantity=Decimal(7)))
    assert sc.engine.health().healthy
    assert LogCode.HEALTH_POSITION_MISMATCH not in sc.codes


def _throttled(limit: int) -> Scenario:
    sc = Scenario(EngineConfig(account=ACCOUNT, client_id=7, max_messages_per_second=limit))
    for _ in range(6):
        sc.tick(1)  # drain the connect-time requests
    return sc


def test_EDGE_04_cancel_of_an_order_still_queued_sends_neither_place_nor_cancel() -> None:
    sc = _throttled(1)
    sc.tick(1)
    sc.submit("sent")
    sc.submit("queued")
    assert sc.engine.queue_depth == 1
    assert sc.feed(RequestCancel(oms_id="queued")) == []
    assert sc.engine.queue_depth == 0
    assert sc.order("queued").status is Status.CANCELED
    for _ in range(3):
        sc.tick(1)
    assert [c.oms_id for c in sc.commands(PlaceOrder)] == ["sent"]
    assert not sc.commands(CancelOrder)
    assert LogCode.ILLEGAL_TRANSITION not in sc.codes


def test_EDGE_04_queued_cancel_dropped_at_a_disconnect_leaves_the_order_live() -> None:
    from ibguard.engine.events import ConnectionLost

    sc = _throttled(1)
    sc.tick(1)
    sc.working("o1")
    sc.tick(1)
    sc.feed(sc.fill("o1", "10"))
    sc.submit("other")  # takes this second's only message
    sc.feed(RequestCancel(oms_id="o1"))
    assert sc.engine.queue_depth == 1
    sc.feed(ConnectionLost(reason="socket"))
    assert sc.order("o1").status is Status.PARTIALLY_FILLED
    assert LogCode.CANCEL_REFUSED in sc.codes
    assert not sc.commands(CancelOrder)


def test_queued_cancel_for_an_order_settled_meanwhile_changes_nothing() -> None:
    from ibguard.engine.events import ConnectionLost

    sc = _throttled(1)
    sc.tick(1)
    sc.working("o1")
    sc.tick(1)
    sc.submit("other")  # takes this second's only message
    sc.feed(RequestCancel(oms_id="o1"))
    assert sc.engine.queue_depth == 1
    sc.feed(sc.fill("o1", "100"))  # filled before the cancel could leave
    sc.feed(ConnectionLost(reason="socket"))
    assert sc.order("o1").status is Status.FILLED


def test_EDGE_02_a_symbol_taken_over_from_an_older_contract_carries_the_new_conid(
    sc: Scenario,
) -> None:
    old_holder = Instrument(symbol="AAPL2", con_id=111)  # the symbol's former contract
    sc.feed(ContractDetails(instrument=old_holder))
    renamed = Instrument(symbol="AAPL2", con_id=AAPL.con_id)
    sc.hold("o1", "100")
    sc.feed(ContractDetails(instrument=renamed))
    (position,) = sc.engine.positions()
    assert position.quantity == 100
    assert position.instrument.con_id == AAPL.con_id  # the contract now behind the symbol
