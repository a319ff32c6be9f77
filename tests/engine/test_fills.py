"""Fills are counted exactly once, at exact prices (LIFE-04, LIFE-05, LIFE-06, EDGE-01)."""

from __future__ import annotations

import logging
from decimal import Decimal

from ibguard.engine import Instrument, LogCode, Status
from ibguard.engine.fills import FillLedger, FillOutcome, split_exec_id

from tests.engine.scenario import AAPL, T0, Scenario


def test_LIFE_04_vwap_across_ten_partials_is_the_exact_decimal_ratio(sc: Scenario) -> None:
    sc.working("o1", "70")
    prices = [
        "100.10",
        "100.20",
        "100.30",
        "100.40",
        "100.50",
        "100.25",
        "100.35",
        "100.15",
        "100.45",
        "100.28",
    ]
    quantities = ["7", "7", "7", "7", "7", "7", "7", "7", "7", "7"]
    for quantity, price in zip(quantities, prices, strict=True):
        sc.feed(sc.fill("o1", quantity, price))
    order = sc.order("o1")
    expected = sum(
        Decimal(q) * Decimal(p) for q, p in zip(quantities, prices, strict=True)
    ) / Decimal(70)
    assert order.avg_fill_price == expected
    assert order.status is Status.FILLED
    assert order.filled == Decimal(70)


def test_LIFE_04_vwap_keeps_repeating_decimals_exact(sc: Scenario) -> None:
    sc.working("o1", "7")
    sc.feed(sc.fill("o1", "3", "100.00"), sc.fill("o1", "4", "100.50"))
    assert sc.order("o1").avg_fill_price == Decimal("702.00") / Decimal(7)
    assert str(sc.order("o1").avg_fill_price).startswith("100.285714")


def test_LIFE_05_duplicate_execution_is_counted_once(sc: Scenario) -> None:
    sc.working("o1", "100")
    execution = sc.fill("o1", "30", "100.10", exec_id="0000e0d5.6553a1b4.01.01")
    sc.feed(execution, execution)
    assert sc.order("o1").filled == Decimal(30)
    assert sc.engine.position(AAPL) == Decimal(30)
    assert sc.order("o1").status is Status.PARTIALLY_FILLED
    assert LogCode.FILL_DUPLICATE in sc.codes
    assert sc.records(LogCode.FILL_DUPLICATE)[0].exec_id == "0000e0d5.6553a1b4.01.01"  # type: ignore[attr-defined]


def test_same_exec_id_with_other_data_is_a_conflict_not_an_overwrite(sc: Scenario) -> None:
    sc.working("o1", "100")
    sc.feed(sc.fill("o1", "30", "100.10", exec_id="a.b.01.01"))
    sc.feed(sc.fill("o1", "40", "100.10", exec_id="a.b.01.01"))
    assert sc.order("o1").filled == Decimal(30)
    assert LogCode.FILL_CONFLICT in sc.alerts.codes


def test_execution_correction_replaces_the_earlier_fill(sc: Scenario) -> None:
    sc.working("o1", "100")
    sc.feed(sc.fill("o1", "30", "100.10", exec_id="a.b.01.01"))
    sc.feed(sc.fill("o1", "20", "100.00", exec_id="a.b.01.02"))
    order = sc.order("o1")
    assert order.filled == Decimal(20)
    assert order.avg_fill_price == Decimal("100.00")
    assert sc.engine.position(AAPL) == Decimal(20)
    assert [f.exec_id for f in order.fills] == ["a.b.01.02"]
    assert LogCode.FILL_CORRECTED in sc.codes
    # the superseded revision arriving late changes nothing
    sc.feed(sc.fill("o1", "30", "100.10", exec_id="a.b.01.01"))
    assert sc.order("o1").filled == Decimal(20)


def test_LIFE_06_zero_quantity_execution_changes_nothing(sc: Scenario) -> None:
    sc.working("o1", "100")
    before = sc.order("o1")
    sc.feed(sc.fill("o1", "0", "100.10"))
    assert sc.order("o1") == before
    assert sc.engine.position(AAPL) == 0
    assert sc.codes[-1] is LogCode.FILL_ZERO_QTY


def test_EDGE_01_negative_price_fill_is_rejected_with_an_alert(sc: Scenario) -> None:
    sc.working("o1", "100")
    sc.feed(sc.fill("o1", "10", "-0.01"))
    assert sc.order("o1").filled == 0
    assert sc.engine.position(AAPL) == 0
    assert LogCode.NEGATIVE_PRICE in sc.alerts.codes


def test_EDGE_01_negative_price_allowed_on_configured_instruments(sc: Scenario) -> None:
    spread = Instrument(symbol="CL-SPREAD", sec_type="BAG", con_id=28812380)
    sc.working("s1", "1", instrument=spread)
    sc.feed(sc.fill("s1", "1", "-0.25", instrument=spread))
    assert sc.order("s1").filled == Decimal(1)
    assert sc.order("s1").avg_fill_price == Decimal("-0.25")


def test_overfill_is_recorded_and_alerted_never_silently_accepted(sc: Scenario) -> None:
    sc.working("o1", "100")
    sc.feed(sc.fill("o1", "100"), sc.fill("o1", "10"))
    order = sc.order("o1")
    assert order.overfilled
    assert order.filled == Decimal(110)
    assert order.status is Status.FILLED
    assert sc.alerts.codes.count(LogCode.OVERFILL) == 1


def test_fill_times_are_broker_times_whatever_the_host_zone(sc: Scenario) -> None:
    sc.working("o1", "100")
    sc.feed(sc.fill("o1", "100", time=T0))
    assert sc.order("o1").last_fill_at == T0
    assert sc.order("o1").fills[0].time.utcoffset() is not None


def test_commission_attaches_to_its_fill_and_repeats_are_harmless(sc: Scenario) -> None:
    from ibguard.engine.events import CommissionReport

    sc.working("o1", "100")
    sc.feed(sc.fill("o1", "100", exec_id="c.d.01.01"))
    report = CommissionReport(exec_id="c.d.01.01", commission=Decimal("1.25"))
    sc.feed(report, report, CommissionReport(exec_id="unknown.01", commission=Decimal(1)))
    assert sc.order("o1").commission == Decimal("1.25")


def test_exec_id_revision_split() -> None:
    assert split_exec_id("0000e0d5.6553a1b4.01.01") == ("0000e0d5.6553a1b4.01", 1)
    assert split_exec_id("plain") == ("plain", 0)
    assert split_exec_id("a.b.x") == ("a.b.x", 0)


def test_ledger_reports_each_outcome() -> None:
    ledger = FillLedger()
    assert ledger.avg_price is None
    assert ledger.apply("x.01", Decimal(1), Decimal(2), T0).outcome is FillOutcome.APPLIED
    assert "x.01" in ledger
    assert "x.02" not in ledger
    assert ledger.apply("x.01", Decimal(1), Decimal(2), T0).outcome is FillOutcome.DUPLICATE
    assert ledger.set_commission("x.09", Decimal(1)) is False
    assert ledger.set_commission("y.01", Decimal(1)) is False


def test_ledger_outcomes_that_count_nothing_change_the_quantity_by_zero() -> None:
    ledger = FillLedger()
    ledger.apply("x.02", Decimal(5), Decimal(2), T0)
    duplicate = ledger.apply("x.02", Decimal(5), Decimal(2), T0)
    conflict = ledger.apply("x.02", Decimal(6), Decimal(2), T0)
    stale = ledger.apply("x.01", Decimal(4), Decimal(2), T0)
    assert [r.outcome for r in (duplicate, conflict, stale)] == [
        FillOutcome.DUPLICATE,
        FillOutcome.CONFLICT,
        FillOutcome.STALE_CORRECTION,
    ]
    assert [r.quantity_delta for r in (duplicate, conflict, stale)] == [Decimal(0)] * 3
    assert ledger.filled == Decimal(5)


def test_fast_path_counts_a_fill_that_completes_the_order_exactly() -> None:
    ledger = FillLedger()
    assert ledger.add_new("a.b.01.01", Decimal(60), Decimal(10), T0, Decimal(100)) == 60
    assert ledger.add_new("a.c.01.01", Decimal(40), Decimal(10), T0, Decimal(100)) == 100
    assert ledger.add_new("a.d.01.01", Decimal(1), Decimal(10), T0, Decimal(100)) is None
    assert ledger.filled == 100


def test_fast_path_keeps_an_exec_id_with_a_non_numeric_suffix_whole() -> None:
    ledger = FillLedger()
    assert ledger.add_new("a.b.x", Decimal(5), Decimal(10), T0, Decimal(100)) == 5
    assert "a.b.x" in ledger
    assert ledger.apply("a.b.x", Decimal(5), Decimal(10), T0).outcome is FillOutcome.DUPLICATE


def test_an_exec_id_without_a_revision_replayed_is_a_duplicate_not_a_correction() -> None:
    ledger = FillLedger()
    assert ledger.add_new("plain", Decimal(5), Decimal(10), T0, Decimal(100)) == 5
    replay = ledger.apply("plain", Decimal(5), Decimal(10), T0)
    assert replay.outcome is FillOutcome.DUPLICATE
    assert ledger.filled == 5


def test_each_fill_is_a_debug_record_and_the_order_filled_an_info_one(sc: Scenario) -> None:
    # the journal holds every execution; at INFO an operator sees the order filled, not
    # one line per execution (that line cost the service ten times `handle`)
    sc.working("o1", "10")
    sc.feed(sc.fill("o1", "4"), sc.fill("o1", "6"))  # the common path (known permId)
    sc.feed(sc.fill("o1", "1", exec_id="a.b.01.01"))  # over the quantity: the general path
    applied = sc.records(LogCode.FILL_APPLIED)
    assert [r.levelno for r in applied] == [logging.DEBUG] * 3
    assert [r.exec_id for r in applied][-1] == "a.b.01.01"  # type: ignore[attr-defined]
    (partly,) = sc.records(LogCode.ORDER_ACKNOWLEDGED)[-1:]
    assert partly.status == "PARTIALLY_FILLED"  # type: ignore[attr-defined]
    assert partly.levelno == logging.DEBUG  # the first fill's consequence, not a milestone
    (filled,) = sc.records(LogCode.ORDER_STATUS)  # once per order, as the general path
    assert filled.levelno == logging.INFO
    assert filled.filled == Decimal(10)  # type: ignore[attr-defined]


def test_EDGE_01_a_fill_below_one_dollar_is_a_normal_fill(sc: Scenario) -> None:
    sc.working("o1", "100")
    sc.feed(sc.fill("o1", "10", "0.50"))
    sc.feed(sc.fill("ghost", "10", "0.50", order_id=55, perm_id=4242))  # the general path
    assert sc.order("o1").filled == 10
    assert sc.order("ghost").filled == 10
    assert LogCode.NEGATIVE_PRICE not in sc.alerts.codes


def test_EDGE_01_a_fill_at_a_price_of_zero_is_counted(sc: Scenario) -> None:
    sc.working("o1", "100")
    sc.feed(sc.fill("o1", "10", "0"))
    sc.feed(sc.fill("ghost", "10", "0", order_id=55, perm_id=4242))  # the general path
    assert sc.order("o1").filled == 10
    assert sc.order("ghost").filled == 10
    assert LogCode.NEGATIVE_PRICE not in sc.alerts.codes
