"""Bad input never crashes the engine or corrupts state: it is refused with a log code."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from ibguard.engine import (
    CancelOrder,
    ConfigError,
    EngineConfig,
    IbguardError,
    IllegalTransition,
    Instrument,
    LogCode,
    OrderRequest,
    OrderType,
    PlaceOrder,
    Side,
    Status,
    UsageError,
)
from ibguard.engine.events import (
    BrokerError,
    CompletedOrdersSnapshot,
    ConnectionLost,
    ConnectionRestored,
    ExecutionsSnapshot,
    ManagedAccounts,
    NextValidId,
    OpenOrderReport,
    OpenOrdersSnapshot,
    RequestCancel,
    SubmitOrder,
    Tick,
)
from ibguard.engine.lifecycle import Kind, advance

from tests.engine.scenario import AAPL, ACCOUNT, T0, Scenario


def test_unknown_event_type_is_logged_not_raised(sc: Scenario) -> None:
    assert sc.engine.handle(object()) == []  # type: ignore[arg-type]
    assert sc.codes[-1] is LogCode.EVENT_REJECTED


def test_an_event_that_cannot_be_applied_is_logged_not_raised(sc: Scenario) -> None:
    report = OpenOrderReport(
        order_id=5,
        client_id=1,
        perm_id=77,
        order_ref="ibg:bad",
        instrument=AAPL,
        side=Side.BUY,
        quantity=Decimal(0),
        order_type=OrderType.MARKET,
        limit_price=None,
        tif=__import__("ibguard.engine", fromlist=["TimeInForce"]).TimeInForce.DAY,
        account=ACCOUNT,
        status="Submitted",
    )
    assert sc.feed(report) == []
    assert sc.codes[-1] is LogCode.EVENT_REJECTED
    assert sc.engine.order("bad") is None


def test_illegal_move_is_logged_and_leaves_the_order_alone(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(BrokerError(req_id=sc.placed("o1").order_id, code=103, message="Duplicate order id"))
    assert sc.order("o1").status is Status.WORKING
    assert LogCode.ILLEGAL_TRANSITION in sc.codes


def test_lifecycle_table_miss_raises_illegal_transition_naming_both_sides() -> None:
    with pytest.raises(IllegalTransition) as info:
        advance(Status.WORKING, Kind.SEND)
    assert (info.value.status, info.value.kind) == ("WORKING", "SEND")
    assert isinstance(info.value, RuntimeError)


def test_terminal_states_absorb_everything_but_fills() -> None:
    for status in (Status.FILLED, Status.CANCELED, Status.REJECTED):
        for kind in Kind:
            if kind is not Kind.FINAL_FILL:
                assert advance(status, kind) is status


def test_resubmitting_a_used_oms_id_is_refused(sc: Scenario) -> None:
    sc.working("o1")
    assert sc.submit("o1") == []
    assert sc.codes[-1] is LogCode.ORDER_REFUSED


def test_cancel_of_a_recovered_order_without_our_order_id_is_refused(sc: Scenario) -> None:
    sc.feed(sc.open_order("gtc", client_id=99, order_id=5, perm_id=31))
    assert sc.feed(RequestCancel(oms_id="gtc")) == []
    assert sc.order("gtc").status is Status.WORKING


def test_orders_submitted_before_the_first_tick_are_stamped_by_it() -> None:
    sc = Scenario(connect=False)
    sc.feed(NextValidId(order_id=1), ManagedAccounts(accounts=(ACCOUNT,)))
    sc.feed(ConnectionRestored(data_lost=False))
    sc.submit("o1")
    assert sc.order("o1").updated_at is None
    sc.tick(0)
    assert sc.order("o1").updated_at == T0
    sc.tick(301)
    assert sc.order("o1").pending_reconcile


def test_snapshots_outside_a_reconcile_are_applied_without_finishing_one(sc: Scenario) -> None:
    sc.working("o1")
    assert sc.feed(OpenOrdersSnapshot(orders=(sc.open_order("o1"),))) == []
    assert sc.feed(CompletedOrdersSnapshot()) == []
    assert sc.feed(ExecutionsSnapshot(executions=(sc.fill("o1", "5"),))) == []
    assert sc.order("o1").filled == Decimal(5)
    assert sc.order("o1").status is Status.PARTIALLY_FILLED


def test_open_order_of_ours_in_another_account_halts(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.open_order("o1", account="FU1"))
    assert sc.engine.halted


def test_cannot_cancel_while_working_keeps_working_and_asks(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(BrokerError(req_id=sc.placed("o1").order_id, code=161, message="not cancellable"))
    assert sc.order("o1").status is Status.WORKING
    assert sc.order("o1").pending_reconcile


def test_queued_cancels_are_dropped_on_disconnect_too() -> None:
    sc = Scenario(EngineConfig(account=ACCOUNT, client_id=7, max_messages_per_second=1))
    for _ in range(6):
        sc.tick(1)
    sc.tick(1)
    sc.working("o1")
    sc.feed(RequestCancel(oms_id="o1"))
    assert sc.engine.queue_depth == 1
    sc.feed(ConnectionLost())
    assert sc.engine.queue_depth == 0
    assert not sc.commands(CancelOrder)


def test_contract_details_for_unrelated_instruments_change_nothing(sc: Scenario) -> None:
    from ibguard.engine.events import ContractDetails

    sc.working("o1")
    sc.working("t1", instrument=Instrument(symbol="TSLA", con_id=2))
    assert sc.feed(ContractDetails(instrument=Instrument(symbol="MSFT", con_id=3))) == []
    assert sc.feed(ContractDetails(instrument=Instrument(symbol="NEW", con_id=0))) == []


def test_second_halt_reason_keeps_the_first(sc: Scenario) -> None:
    sc.feed(ManagedAccounts(accounts=("X",)))
    sc.feed(BrokerError(req_id=-1, code=326, message="in use"))
    assert sc.engine.halt_reason == LogCode.ACCOUNT_MISMATCH.value


def test_inactive_status_rejects_a_working_order(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.status("o1", "Inactive"))
    assert sc.order("o1").status is Status.REJECTED
    assert LogCode.ORDER_REJECTED in sc.codes


def test_unknown_broker_status_strings_change_nothing(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.status("o1", "PendingCancel"), sc.status("o1", "SomethingNew"))
    assert sc.order("o1").status is Status.WORKING


def test_foreign_fill_replayed_counts_once_in_foreign_exposure(sc: Scenario) -> None:
    fill = sc.fill("m", "25", order_ref="", client_id=0, order_id=0, perm_id=6001)
    sc.feed(fill, fill)
    from ibguard.engine.events import PositionReport, PositionsSnapshot

    sc.feed(
        PositionsSnapshot(
            positions=(PositionReport(account=ACCOUNT, instrument=AAPL, quantity=Decimal(25)),)
        )
    )
    assert sc.engine.health().healthy


def test_alerts_without_a_sink_are_still_logged() -> None:
    import logging

    from ibguard.engine import Engine

    engine = Engine(EngineConfig(account=ACCOUNT))
    engine.handle(ManagedAccounts(accounts=("X",)))
    assert engine.halted
    assert logging.getLogger("ibguard.engine") is not None


def test_tick_with_no_time_passed_reports_no_rate(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.fill("o1", "1"))
    sc.feed(Tick(now=sc.now))
    assert LogCode.FILL_RATE not in sc.codes


# --- values are validated when built ------------------------------------------------------


def test_money_must_be_decimal_never_float() -> None:
    with pytest.raises(UsageError):
        OrderRequest(instrument=AAPL, side=Side.BUY, quantity=100.0, limit_price=Decimal(1))  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        OrderRequest(
            instrument=AAPL, side=Side.BUY, quantity=Decimal("NaN"), limit_price=Decimal(1)
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quantity": Decimal(0), "limit_price": Decimal(1)},
        {"quantity": Decimal(1)},
        {"quantity": Decimal(1), "order_type": OrderType.MARKET, "limit_price": Decimal(1)},
    ],
)
def test_order_request_invariants(kwargs: dict) -> None:
    with pytest.raises(UsageError):
        OrderRequest(instrument=AAPL, side=Side.BUY, **kwargs)


def test_instrument_invariants() -> None:
    with pytest.raises(UsageError):
        Instrument(symbol="")
    with pytest.raises(UsageError):
        Instrument(symbol="X", con_id=-1)


def test_broker_times_must_be_aware() -> None:
    with pytest.raises(UsageError):
        Tick(now=datetime(2026, 1, 1))


def test_oms_ids_cannot_carry_the_namespace_separator() -> None:
    request = OrderRequest(
        instrument=AAPL, side=Side.BUY, quantity=Decimal(1), order_type=OrderType.MARKET
    )
    with pytest.raises(UsageError):
        SubmitOrder(oms_id="a:b", request=request)


def test_side_helpers() -> None:
    assert Side.BUY.opposite is Side.SELL
    assert Side.SELL.opposite is Side.BUY
    assert Side.SELL.sign == -1


def test_config_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        EngineConfig(
            account="",
            client_id=-1,
            namespace="a:b",
            exchange_tz="Mars/Olympus",
            stale_after=timedelta(0),
            skew_tolerance=timedelta(seconds=-1),
            what_if_timeout=timedelta(0),
            max_messages_per_second=0,
            position_tolerance=Decimal(-1),
        )
    assert len(info.value.errors) == 9
    assert isinstance(info.value, ValueError)
    assert info.value.source == "EngineConfig"


def test_error_root_cannot_be_raised_itself() -> None:
    with pytest.raises(TypeError):
        IbguardError("x")
    assert str(ConfigError(["a", "b"])) == "a; b"


def test_order_snapshot_commission_sums_fills(sc: Scenario) -> None:
    sc.working("o1")
    assert sc.order("o1").commission == 0
    assert sc.order("o1").remaining == Decimal(100)
    sc.feed(sc.fill("o1", "100"))
    assert sc.order("o1").remaining == 0
    assert isinstance(sc.commands(PlaceOrder)[0], PlaceOrder)
    assert datetime.now(timezone.utc) > T0


def test_early_status_without_perm_id_is_matched_by_the_provisional_alias(sc: Scenario) -> None:
    sc.submit("o1")
    sc.feed(sc.status("o1", "PreSubmitted", perm_id=0))
    assert sc.order("o1").status is Status.WORKING
    assert sc.order("o1").perm_id is None


def test_commissions_in_an_executions_snapshot_attach(sc: Scenario) -> None:
    from ibguard.engine.events import CommissionReport

    sc.working("o1")
    fill = sc.fill("o1", "100", exec_id="z.y.01.01")
    sc.feed(
        ExecutionsSnapshot(
            executions=(fill,),
            commissions=(CommissionReport(exec_id="z.y.01.01", commission=Decimal("0.35")),),
        )
    )
    assert sc.order("o1").commission == Decimal("0.35")


def test_open_order_report_validates_remaining() -> None:
    with pytest.raises(UsageError):
        OpenOrderReport(
            order_id=5,
            client_id=1,
            perm_id=77,
            order_ref="",
            instrument=AAPL,
            side=Side.BUY,
            quantity=Decimal(1),
            order_type=OrderType.MARKET,
            limit_price=None,
            tif=__import__("ibguard.engine", fromlist=["TimeInForce"]).TimeInForce.DAY,
            account=ACCOUNT,
            status="Submitted",
            remaining=1.0,  # type: ignore[arg-type]
        )


def test_order_index_ignores_unset_ids() -> None:
    from ibguard.engine.identity import OrderIndex

    index = OrderIndex()
    index.bind_perm(0, "a")
    assert index.by_perm(0) is None
    assert index.bind_alias(1, 0, "a") is None
    assert index.bind_alias(1, 2**31 - 1, "a") is None
    assert index.by_alias(1, 0) is None
    index.bind_alias(1, 5, "a")
    index.drop_alias(1, 5, "b")  # not b's alias: kept
    assert index.by_alias(1, 5) == "a"
    assert index.bind_alias(1, 5, "a") is None  # same order again is no reuse
