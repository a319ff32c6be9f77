"""Flatten-all: what-if first, never recursive, one honest summary (FAIL-01, FAIL-02,
FAIL-03, FAIL-07) and the EOD schedule."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from ibguard.engine import CancelOrder, Instrument, LogCode, PlaceOrder, RequestWhatIf, Side, Status
from ibguard.engine.events import BrokerError, FlattenAll, Tick, WhatIfResult
from ibguard.engine.flatten import describe_exposure, flatten_orders

from tests.engine.scenario import AAPL, TSLA, Scenario


def _long(sc: Scenario, oms_id: str, quantity: str, instrument: Instrument = AAPL) -> None:
    sc.hold(oms_id, quantity, instrument)


def _flatten(sc: Scenario, *, margin_ok: bool = True) -> list[PlaceOrder]:
    return sc.flatten("eod", margin_ok=margin_ok)


def _reject(sc: Scenario, place: PlaceOrder, text: str = "rejected") -> None:
    sc.feed(
        BrokerError(req_id=place.order_id, code=201, message=f"Order rejected - reason: {text}")
    )


def _fill_flatten(sc: Scenario, place: PlaceOrder) -> None:
    sc.fill_place(place)


def test_FAIL_01_every_flatten_order_rejected_gives_one_summary_with_exposure(sc: Scenario) -> None:
    _long(sc, "a", "100")
    _long(sc, "t", "100", TSLA)
    places = _flatten(sc)
    assert len(places) == 2
    for place in places:
        _reject(sc, place, "trading halted")
    assert all(sc.order(p.oms_id).status is Status.REJECTED for p in places)
    summary = sc.records(LogCode.FLATTEN_SUMMARY)
    assert len(summary) == 1
    assert summary[0].failed == 2  # type: ignore[attr-defined]
    assert "AAPL long 100" in summary[0].exposure  # type: ignore[attr-defined]
    assert LogCode.FLATTEN_SUMMARY in sc.alerts.codes
    report = sc.engine.last_flatten
    assert report is not None
    assert not report.complete
    assert report.exposure_left == ("AAPL long 100", "TSLA long 100")


def test_FAIL_02_one_rejected_flatten_order_does_not_stop_the_others(sc: Scenario) -> None:
    _long(sc, "a", "100")
    _long(sc, "t", "100", TSLA)
    places = {p.request.instrument.symbol: p for p in _flatten(sc)}
    _reject(sc, places["TSLA"], "margin")
    _fill_flatten(sc, places["AAPL"])
    assert sc.engine.position(AAPL) == 0
    partial = sc.records(LogCode.FLATTEN_PARTIAL)
    assert len(partial) == 1
    assert partial[0].exposure == "TSLA long 100"  # type: ignore[attr-defined]
    assert LogCode.FLATTEN_PARTIAL in sc.alerts.codes


def test_FAIL_03_rejected_flatten_order_never_triggers_another_flatten(sc: Scenario) -> None:
    _long(sc, "a", "100")
    (place,) = _flatten(sc)
    assert place.request.flatten_reason == "eod"
    _reject(sc, place)
    assert LogCode.FLATTEN_RECURSION in sc.codes
    assert len(sc.commands(RequestWhatIf)) == 1
    assert len(sc.commands(PlaceOrder)) == 2  # the original and one flatten order, no more


def test_FAIL_03_flatten_requested_while_one_runs_is_refused(sc: Scenario) -> None:
    _long(sc, "a", "100")
    sc.feed(FlattenAll(reason="eod"))
    assert sc.feed(FlattenAll(reason="again")) == []
    assert LogCode.FLATTEN_RECURSION in sc.codes


def test_FAIL_07_margin_what_if_failure_aborts_before_any_order_is_sent(sc: Scenario) -> None:
    _long(sc, "a", "100")
    sc.working("w", "10")
    places = _flatten(sc, margin_ok=False)
    assert places == []
    assert not sc.commands(CancelOrder)
    assert len(sc.commands(PlaceOrder)) == 2  # only the strategy's own orders
    assert LogCode.FLATTEN_ABORTED in sc.alerts.codes
    assert sc.engine.last_flatten is not None
    assert sc.engine.last_flatten.aborted


def test_successful_flatten_cancels_working_orders_and_closes_positions(sc: Scenario) -> None:
    _long(sc, "a", "100")
    sc.working("w", "10")
    what_if = sc.feed(FlattenAll(reason="manual"))
    out = sc.feed(WhatIfResult(request_id=what_if[0].request_id, margin_ok=True))  # type: ignore[union-attr]
    assert [type(c) for c in out] == [CancelOrder, PlaceOrder]
    place = out[1]
    assert isinstance(place, PlaceOrder)
    assert place.request.side is Side.SELL
    _fill_flatten(sc, place)
    assert sc.engine.positions() == ()
    assert sc.records(LogCode.FLATTEN_SUMMARY)[0].failed == 0  # type: ignore[attr-defined]
    assert sc.engine.last_flatten is not None
    assert sc.engine.last_flatten.complete


def test_flatten_with_nothing_to_close_cancels_working_orders_and_reports_flat(
    sc: Scenario,
) -> None:
    sc.working("w", "10")
    commands = sc.feed(FlattenAll(reason="eod"))
    assert [type(c) for c in commands] == [CancelOrder]  # no what-if needed when flat
    assert LogCode.FLATTEN_SUMMARY in sc.codes
    assert sc.engine.last_flatten is not None
    assert sc.engine.last_flatten.complete


def test_what_if_answer_for_no_flatten_is_ignored(sc: Scenario) -> None:
    assert sc.feed(WhatIfResult(request_id=99, margin_ok=True)) == []
    assert sc.codes[-1] is LogCode.EVENT_REJECTED


def test_eod_flatten_runs_once_per_weekday_at_1550_new_york(sc: Scenario) -> None:
    _long(sc, "a", "100")
    sc.feed(Tick(now=datetime(2026, 11, 24, 20, 49, 59, tzinfo=timezone.utc)))
    assert not sc.commands(RequestWhatIf)
    sc.feed(Tick(now=datetime(2026, 11, 24, 20, 50, 0, tzinfo=timezone.utc)))
    sc.feed(Tick(now=datetime(2026, 11, 24, 20, 50, 5, tzinfo=timezone.utc)))
    (what_if,) = sc.commands(RequestWhatIf)
    assert isinstance(what_if, RequestWhatIf)
    sc.feed(WhatIfResult(request_id=what_if.request_id, margin_ok=False))
    # Saturday: no flatten
    sc.feed(Tick(now=datetime(2026, 11, 28, 20, 49, 0, tzinfo=timezone.utc)))
    sc.feed(Tick(now=datetime(2026, 11, 28, 20, 51, 0, tzinfo=timezone.utc)))
    assert len(sc.commands(RequestWhatIf)) == 1


def test_short_positions_are_flattened_with_buys(sc: Scenario) -> None:
    sc.working("s", "50", side=Side.SELL)
    sc.feed(sc.fill("s", "50", side=Side.SELL))
    assert sc.engine.position(AAPL) == Decimal(-50)
    (place,) = _flatten(sc)
    assert place.request.side is Side.BUY
    assert place.request.quantity == Decimal(50)


def test_FAIL_07_flatten_without_a_what_if_answer_asks_again_then_is_aborted_not_stuck(
    sc: Scenario,
) -> None:
    _long(sc, "a", "100")
    sc.feed(FlattenAll(reason="eod"))
    sc.tick(29)
    assert len(sc.commands(RequestWhatIf)) == 1
    sc.tick(1)  # no answer in 30 s of broker time: asked again
    assert len(sc.commands(RequestWhatIf)) == 2
    assert LogCode.FLATTEN_ABORTED not in sc.codes
    sc.tick(30)
    assert len(sc.commands(RequestWhatIf)) == 3
    sc.tick(30)  # the third attempt went unanswered too: reported failed
    assert LogCode.FLATTEN_ABORTED in sc.alerts.codes
    assert len(sc.commands(RequestWhatIf)) == 3
    assert len(sc.commands(PlaceOrder)) == 1  # nothing sent
    report = sc.engine.health()
    assert "flatten" in {check.name for check in report.failures}
    sc.feed(FlattenAll(reason="retry"))
    assert len(sc.commands(RequestWhatIf)) == 4  # a new flatten can start


def test_what_if_asked_on_a_dead_session_waits_for_the_next_ready_session(sc: Scenario) -> None:
    from ibguard.engine.events import ConnectionLost

    _long(sc, "a", "100")
    sc.feed(FlattenAll(reason="eod"))
    sc.feed(ConnectionLost(reason="socket"))
    assert LogCode.FLATTEN_ABORTED not in sc.codes
    assert LogCode.FLATTEN_DUE in sc.codes
    assert sc.engine.flatten_pending == "eod"
    sc.tick(120)  # long past the what-if timeout: nothing is asked on a dead session
    assert len(sc.commands(RequestWhatIf)) == 1
    sc.connect(next_id=200)
    assert len(sc.commands(RequestWhatIf)) == 2  # asked again once up and reconciled


def test_a_long_position_of_one_share_is_closed_with_a_sell() -> None:
    (order,) = flatten_orders({AAPL.key: Decimal(1)}, {AAPL.key: AAPL}, "eod")
    assert (order.side, order.quantity) == (Side.SELL, Decimal(1))


def test_a_what_if_answer_to_another_request_is_ignored_while_one_is_pending(
    sc: Scenario,
) -> None:
    _long(sc, "a", "100")
    (what_if,) = sc.feed(FlattenAll(reason="eod"))
    assert isinstance(what_if, RequestWhatIf)
    stale = WhatIfResult(request_id=what_if.request_id + 1, margin_ok=True)
    assert sc.feed(stale) == []
    assert sc.codes[-1] is LogCode.EVENT_REJECTED


def test_a_flatten_asked_on_a_ready_session_is_not_reported_as_waiting(sc: Scenario) -> None:
    _long(sc, "a", "100")
    sc.feed(FlattenAll(reason="eod"))
    assert LogCode.FLATTEN_DUE not in sc.codes


def test_a_flatten_whose_orders_all_fill_logs_no_recursion_warning(sc: Scenario) -> None:
    _long(sc, "a", "100")
    for place in _flatten(sc):
        _fill_flatten(sc, place)
    assert sc.engine.last_flatten is not None
    assert sc.engine.last_flatten.complete
    assert LogCode.FLATTEN_RECURSION not in sc.codes


def test_exposure_names_a_one_share_long_and_a_fractional_short_rightly() -> None:
    instruments = {AAPL.key: AAPL, TSLA.key: TSLA}
    positions = {AAPL.key: Decimal(1), TSLA.key: Decimal("-0.5")}
    assert sorted(describe_exposure(positions, instruments)) == ["AAPL long 1", "TSLA short 0.5"]
    sides = {o.instrument.symbol: o.side for o in flatten_orders(positions, instruments, "eod")}
    assert sides == {"AAPL": Side.SELL, "TSLA": Side.BUY}


def test_a_flatten_order_the_broker_cancels_ends_the_flatten_with_its_exposure(
    sc: Scenario,
) -> None:
    _long(sc, "a", "100")
    (place,) = _flatten(sc)
    sc.feed(sc.open_order(place.oms_id, side=Side.SELL))
    sc.feed(sc.status(place.oms_id, "Cancelled"))  # a status of a known order: the direct path
    (summary,) = sc.records(LogCode.FLATTEN_SUMMARY)
    assert summary.failed == 1  # type: ignore[attr-defined]
    report = sc.engine.last_flatten
    assert report is not None
    assert report.exposure_left == ("AAPL long 100",)
