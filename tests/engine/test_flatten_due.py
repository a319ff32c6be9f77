"""A due flatten is never lost (issue 11, findings 1 and 5).

Replay-level: events a first process handled (its journal) -> a new engine replays them ->
ticks and broker events of the new session -> the commands it sends. The deadline is broker
time carried by journaled ticks; the flatten starts only once the session is up and
reconciled, goes on until done or reported failed, and its summary is judged once the
executions have moved the position.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ibguard.engine import (
    CancelOrder,
    Command,
    EngineConfig,
    LogCode,
    PlaceOrder,
    RequestWhatIf,
    Side,
    Status,
)
from ibguard.engine.engine import RESTARTED
from ibguard.engine.events import (
    BrokerError,
    CompletedOrdersSnapshot,
    ConnectionLost,
    ConnectionRestored,
    Event,
    ExecutionsSnapshot,
    FlattenAll,
    ManagedAccounts,
    NextValidId,
    OpenOrdersSnapshot,
    Tick,
    WhatIfResult,
)
from ibguard.engine.model import Instrument
from ibguard.engine.session import SessionState

from tests.engine.scenario import ACCOUNT, TSLA, Scenario

BEFORE_EOD = datetime(2026, 11, 24, 20, 49, 59, tzinfo=timezone.utc)  # 15:49:59 New York
AFTER_EOD = datetime(2026, 11, 24, 20, 50, 5, tzinfo=timezone.utc)


class JournaledScenario(Scenario):
    """A Scenario whose every handled event is kept, as the service's journal keeps it."""

    def __init__(self) -> None:
        self.journal: list[Event] = []
        super().__init__()

    def feed(self, *events: Event) -> list[Command]:
        self.journal += events
        return super().feed(*events)


def _restart(first: JournaledScenario) -> Scenario:
    """A new process: replays the first one's journal, not connected yet."""
    second = Scenario(connect=False)
    second.engine.replay(first.journal)
    second.sent = list(first.sent)  # what the first process sent, for building broker facts
    second.now = first.now
    second._exec = first._exec + 1000
    return second


def _what_ifs(sc: Scenario) -> list[RequestWhatIf]:
    return [c for c in sc.sent if isinstance(c, RequestWhatIf)]


def _places(sc: Scenario, prefix: str = "flatten-") -> list[PlaceOrder]:
    return [c for c in sc.sent if isinstance(c, PlaceOrder) and c.oms_id.startswith(prefix)]


def test_restart_across_the_eod_moment_flattens_once_the_session_is_up_and_reconciled() -> None:
    first = JournaledScenario()
    first.hold("a", "100")
    first.feed(Tick(now=BEFORE_EOD))
    second = _restart(first)
    asked = len(_what_ifs(second))
    second.now = AFTER_EOD
    second.feed(Tick(now=AFTER_EOD))  # the first tick after replay crosses 15:50
    assert len(_what_ifs(second)) == asked  # no what-if on a session that is not up
    assert second.engine.flatten_pending == "eod"
    health = second.engine.health()
    assert "flatten" in {check.name for check in health.failures}
    second.connect(next_id=500)
    (what_if,) = _what_ifs(second)[asked:]
    assert second.engine.session_state is SessionState.READY
    second.feed(WhatIfResult(request_id=what_if.request_id, margin_ok=True))
    (place,) = _places(second)
    assert place.request.quantity == 100
    second.fill_place(place)
    assert second.engine.positions() == ()
    report = second.engine.last_flatten
    assert report is not None
    assert report.complete
    assert second.engine.health().healthy


def test_kill_after_the_journaled_what_if_answer_sends_the_orders_after_reconcile() -> None:
    first = JournaledScenario()
    first.hold("a", "100")
    first.hold("t", "50", TSLA)
    first.now = AFTER_EOD
    first.feed(Tick(now=BEFORE_EOD), Tick(now=AFTER_EOD))
    (what_if,) = _what_ifs(first)
    first.feed(WhatIfResult(request_id=what_if.request_id, margin_ok=True))
    assert len(_places(first)) == 2
    first.sent = [c for c in first.sent if c not in _places(first)]  # killed: never sent
    second = _restart(first)
    assert not _places(second)
    second.connect(next_id=700)  # the broker has no record of them: NEW, sent again
    places = _places(second)
    assert sorted(p.oms_id for p in places) == ["flatten-1-1", "flatten-1-2"]
    assert all(p.order_id >= 700 for p in places)
    for place in places:
        second.fill_place(place)
    assert second.engine.positions() == ()
    assert second.engine.last_flatten is not None
    assert second.engine.last_flatten.complete
    assert second.engine.flatten_pending is None


def test_kill_after_the_what_if_was_asked_asks_again_on_the_new_session() -> None:
    first = JournaledScenario()
    first.hold("a", "100")
    first.feed(FlattenAll(reason="manual"))
    assert len(_what_ifs(first)) == 1
    second = _restart(first)
    second.tick(600)  # unanswered for long: the new process asks nothing while down
    assert len(_what_ifs(second)) == 1
    second.connect(next_id=800)
    what_ifs = _what_ifs(second)
    assert len(what_ifs) == 2
    second.feed(WhatIfResult(request_id=what_ifs[1].request_id, margin_ok=True))
    assert len(_places(second)) == 1


def test_replayed_engine_is_disconnected_until_its_own_session_connects() -> None:
    first = JournaledScenario()
    assert first.engine.connected
    second = _restart(first)
    assert not second.engine.connected
    assert second.engine.session_state is SessionState.DISCONNECTED


def test_replay_with_no_flatten_due_is_healthy_once_connected() -> None:
    first = JournaledScenario()
    first.hold("a", "100")
    second = _restart(first)
    second.connect(next_id=900)
    assert second.engine.flatten_pending is None
    assert LogCode.FLATTEN_DUE not in second.codes


def test_a_restart_with_a_flatten_due_says_so_once_replayed() -> None:
    first = JournaledScenario()
    first.hold("a", "100")
    first.feed(FlattenAll(reason="manual"))
    second = _restart(first)
    assert LogCode.FLATTEN_DUE in second.codes


def test_flatten_summary_waits_for_the_executions_after_the_broker_says_filled(
    sc: Scenario,
) -> None:
    sc.hold("a", "100")
    (place,) = sc.flatten()
    sc.feed(sc.open_order(place.oms_id, quantity="100"))
    # over the wire: orderStatus Filled comes before the execution reaches the position
    sc.feed(sc.status(place.oms_id, "Filled", filled="100", remaining="0"))
    assert sc.order(place.oms_id).status is Status.FILLED
    assert not sc.records(LogCode.FLATTEN_SUMMARY)
    sc.fill_place(place)
    (summary,) = sc.records(LogCode.FLATTEN_SUMMARY)
    assert summary.failed == 0  # type: ignore[attr-defined]
    assert summary.levelname == "INFO"
    assert LogCode.FLATTEN_SUMMARY not in sc.alerts.codes
    assert sc.engine.last_flatten is not None
    assert sc.engine.last_flatten.complete


def test_flatten_summary_names_missing_executions_after_a_bounded_wait(sc: Scenario) -> None:
    sc.hold("a", "100")
    (place,) = sc.flatten()
    sc.feed(sc.status(place.oms_id, "Filled", filled="100", remaining="0"))
    sc.tick(29)
    assert not sc.records(LogCode.FLATTEN_SUMMARY)
    sc.tick(1)  # 30 s of broker time and no execution: judged with what is known
    (summary,) = sc.records(LogCode.FLATTEN_SUMMARY)
    assert summary.failed == 1  # type: ignore[attr-defined]
    assert "executions missing" in summary.failures  # type: ignore[attr-defined]
    assert LogCode.FLATTEN_SUMMARY in sc.alerts.codes


def test_flatten_order_lost_at_a_disconnect_is_sent_again_after_reconcile(sc: Scenario) -> None:
    sc.hold("a", "100")
    sc.flatten()
    sc.feed(ConnectionLost(reason="socket"))
    assert sc.order("flatten-1-1").status is Status.NEW
    assert len(_places(sc)) == 1
    sc.connect(next_id=300)
    places = _places(sc)
    assert len(places) == 2
    assert places[1].oms_id == "flatten-1-1"
    assert places[1].order_id == 300
    sc.fill_place(places[1])
    assert sc.engine.last_flatten is not None
    assert sc.engine.last_flatten.complete


def test_flatten_order_never_placed_is_given_up_after_three_attempts(sc: Scenario) -> None:
    sc.hold("a", "100")
    sc.flatten()
    for _ in range(3):  # 103 duplicate order id: not placed, each time
        place = _places(sc)[-1]
        sc.feed(BrokerError(req_id=place.order_id, code=103, message="Duplicate order id"))
    assert len(_places(sc)) == 3
    (summary,) = sc.records(LogCode.FLATTEN_SUMMARY)
    assert "not placed" in summary.failures  # type: ignore[attr-defined]
    reasons = {check.name: check.reason for check in sc.engine.health().failures}
    assert "AAPL long 100" in reasons["flatten"]


def test_failed_flatten_is_unhealthy_until_the_book_is_flat(sc: Scenario) -> None:
    sc.hold("a", "100")
    what_if = sc.feed(FlattenAll(reason="eod"))[0]
    assert isinstance(what_if, RequestWhatIf)
    sc.feed(WhatIfResult(request_id=what_if.request_id, margin_ok=False, detail="margin"))
    reasons = {check.name: check.reason for check in sc.engine.health().failures}
    assert "aborted" in reasons["flatten"]
    sc.submit("close", "100", side=Side.SELL, price=None)
    sc.feed(sc.fill("close", "100", side=Side.SELL))
    assert sc.engine.health().healthy


def test_a_due_flatten_on_a_halted_engine_sends_nothing(sc: Scenario) -> None:
    sc.hold("a", "100")
    sc.feed(ConnectionLost(reason="socket"))
    sc.feed(FlattenAll(reason="eod"))
    sc.feed(BrokerError(req_id=-1, code=326, message="client id in use"))
    sent = len(sc.sent)
    sc.connect(next_id=400)
    sc.tick(60)
    assert len(sc.sent) == sent
    assert sc.engine.halted


def test_flatten_cancels_working_orders_once_ready(sc: Scenario) -> None:
    sc.working("w", "10")
    sc.feed(ConnectionLost(reason="socket"))
    assert sc.feed(FlattenAll(reason="eod")) == []
    commands = sc.feed(
        ConnectionRestored(data_lost=True, client_id=7),
        OpenOrdersSnapshot(orders=(sc.open_order("w", quantity="10"),)),
        CompletedOrdersSnapshot(),
        ExecutionsSnapshot(),
    )
    cancel = commands[-1]
    assert isinstance(cancel, CancelOrder)
    assert cancel.oms_id == "w"
    assert sc.engine.last_flatten is not None
    assert sc.engine.last_flatten.complete


def test_eod_deadline_is_broker_time_from_journaled_ticks() -> None:
    first = JournaledScenario()
    first.hold("a", "100")
    first.feed(Tick(now=BEFORE_EOD - timedelta(hours=1)))
    second = _restart(first)
    second.connect(next_id=950)
    second.feed(Tick(now=BEFORE_EOD))
    assert not _what_ifs(second)
    second.feed(Tick(now=AFTER_EOD))
    assert len(_what_ifs(second)) == 1


def test_late_events_of_an_earlier_flatten_do_not_count_in_the_next(sc: Scenario) -> None:
    sc.hold("a", "100")
    what_if = sc.feed(FlattenAll(reason="first"))[0]
    assert isinstance(what_if, RequestWhatIf)
    (first,) = sc.feed(WhatIfResult(request_id=what_if.request_id, margin_ok=True))
    assert isinstance(first, PlaceOrder)
    sc.feed(BrokerError(req_id=first.order_id, code=201, message="rejected"))
    assert sc.engine.last_flatten is not None
    what_if = sc.feed(FlattenAll(reason="second"))[0]
    assert isinstance(what_if, RequestWhatIf)
    (second,) = sc.feed(WhatIfResult(request_id=what_if.request_id, margin_ok=True))
    assert isinstance(second, PlaceOrder)
    sc.feed(sc.status(first.oms_id, "Cancelled"))  # a late word on the first one
    assert sc.engine.flatten_pending == "second"
    sc.fill_place(second)
    assert sc.engine.last_flatten is not None
    assert sc.engine.last_flatten.complete


def test_a_second_restart_replays_the_first_restart_where_it_happened() -> None:
    first = JournaledScenario()
    first.hold("a", "100")
    first.feed(FlattenAll(reason="manual"))  # asked on the first session, never answered
    journal = [*first.journal, RESTARTED]  # the shell journals the restart after replaying
    second = _restart(first)
    assert second.engine.flatten_pending == "manual"
    session_two: list[Event] = []

    def feed(*events: Event) -> None:
        session_two.extend(events)
        second.feed(*events)

    second.tick(10)  # a quick restart: well inside the what-if timeout
    session_two.append(Tick(now=second.now))
    sent = len(second.sent)
    feed(
        NextValidId(order_id=700),
        ManagedAccounts(accounts=(ACCOUNT,)),
        ConnectionRestored(data_lost=True, client_id=7),
        OpenOrdersSnapshot(),
        CompletedOrdersSnapshot(),
        ExecutionsSnapshot(),
    )
    (what_if,) = [c for c in second.sent[sent:] if isinstance(c, RequestWhatIf)]
    feed(WhatIfResult(request_id=what_if.request_id, margin_ok=True))
    (place,) = [c for c in second.sent[sent:] if isinstance(c, PlaceOrder)]
    # killed before the orders left; a third process replays both sessions
    third = Scenario(connect=False)
    third.engine.replay([*journal, *session_two])
    assert third.engine.flatten_pending == "manual"
    assert third.engine.order(place.oms_id) is not None
    third.sent = list(second.sent)
    third.now = second.now
    third.connect(next_id=900)  # no broker record of it: sent again, same oms_id
    again = [c for c in third.sent[len(second.sent) :] if isinstance(c, PlaceOrder)]
    assert [c.oms_id for c in again] == [place.oms_id]
    assert not [c for c in third.sent[len(second.sent) :] if isinstance(c, RequestWhatIf)]


# --- down across a whole day boundary (issue 11, finding 1) ------------------------------------

NEXT_MORNING = datetime(2026, 11, 25, 14, 0, tzinfo=timezone.utc)  # Wednesday 09:00 New York


def test_down_across_a_day_boundary_the_missed_eod_flatten_runs_late_once_reconciled() -> None:
    first = JournaledScenario()
    first.hold("a", "100")
    first.feed(Tick(now=BEFORE_EOD))  # the last tick before the process died, Tuesday
    second = _restart(first)
    second.now = NEXT_MORNING
    second.feed(Tick(now=NEXT_MORNING))  # back on Wednesday: Tuesday's 15:50 was missed
    assert not _what_ifs(second)[len(_what_ifs(first)) :]  # nothing on a session not up
    assert second.engine.flatten_pending == "eod"
    assert "flatten" in {check.name for check in second.engine.health().failures}
    (late,) = second.records(LogCode.FLATTEN_LATE)
    assert late.missed_day == "2026-11-24"  # type: ignore[attr-defined]
    assert LogCode.FLATTEN_LATE in second.alerts.codes
    second.connect(next_id=600)  # up and reconciled: the flatten starts
    (what_if,) = _what_ifs(second)
    second.feed(WhatIfResult(request_id=what_if.request_id, margin_ok=True))
    (place,) = _places(second)
    assert (place.request.side, place.request.quantity) == (Side.SELL, 100)
    second.fill_place(place)
    assert second.engine.positions() == ()
    assert second.engine.health().healthy
    second.feed(Tick(now=NEXT_MORNING + timedelta(hours=1)))
    assert len(_what_ifs(second)) == 1  # once: the late flatten is not repeated


def test_down_for_days_the_missed_flattens_run_once_not_once_per_day() -> None:
    first = JournaledScenario()
    first.hold("a", "100")
    first.feed(Tick(now=BEFORE_EOD))  # Tuesday
    second = _restart(first)
    monday = datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)
    second.now = monday
    second.feed(Tick(now=monday))
    (late,) = second.records(LogCode.FLATTEN_LATE)
    assert late.missed_day == "2026-11-27"  # the latest missed: Friday  # type: ignore[attr-defined]
    assert LogCode.FLATTEN_RECURSION not in second.codes
    second.connect(next_id=600)
    assert len(_what_ifs(second)) == 1


def test_down_over_a_weekend_after_fridays_flatten_misses_nothing() -> None:
    first = JournaledScenario()
    friday_evening = datetime(2026, 11, 27, 22, 0, tzinfo=timezone.utc)  # after Friday's EOD
    first.now = friday_evening
    first.feed(Tick(now=friday_evening))
    first.hold("a", "100")  # bought after the close: held over the weekend on purpose
    second = _restart(first)
    monday = datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)
    second.now = monday
    second.feed(Tick(now=monday))
    second.connect(next_id=600)
    assert LogCode.FLATTEN_LATE not in second.codes
    assert second.engine.flatten_pending is None
    assert not _what_ifs(second)


def test_a_replayed_late_flatten_is_rebuilt_from_the_journal_not_fired_again() -> None:
    first = JournaledScenario()
    first.hold("a", "100")
    first.feed(Tick(now=BEFORE_EOD))
    # the second process: replays the first's journal (and journals RESTARTED after it, as
    # the service does), back in the morning, connects: the late flatten asks its what-if
    second = JournaledScenario()
    second.journal = [*first.journal, RESTARTED]
    second.engine = type(second.engine)(second.config, alerts=second.alerts, logger=second.logger)
    second.engine.replay(first.journal)
    second.sent = list(first.sent)
    second._exec = first._exec + 1000
    second.now = NEXT_MORNING
    second.feed(Tick(now=NEXT_MORNING))
    second.connect(next_id=600)
    assert len(_what_ifs(second)) == 1
    assert LogCode.FLATTEN_LATE in second.codes
    third = _restart(second)  # killed before the answer
    assert third.engine.flatten_pending == "eod"
    assert LogCode.FLATTEN_LATE not in third.codes  # said by the second process already
    third.connect(next_id=700)
    assert len(_what_ifs(third)) == 2  # asked again on the new session, not a second run
    assert LogCode.FLATTEN_RECURSION not in third.codes


def test_a_fresh_engine_started_the_next_morning_does_not_flatten() -> None:
    sc = Scenario(connect=False)  # no journal: it knows nothing of yesterday
    sc.now = NEXT_MORNING
    sc.connect()
    sc.hold("a", "100")
    sc.tick(3600)
    assert sc.engine.flatten_pending is None
    assert LogCode.FLATTEN_LATE not in sc.codes


def test_a_running_process_not_ticked_across_a_day_flattens_nothing_late() -> None:
    # no restart between the ticks: the process was up and the day was its own (FAIL-05's
    # working GTC order after midnight); only a restart makes the gap time it was down
    first = JournaledScenario()
    first.hold("a", "100")
    first.feed(Tick(now=BEFORE_EOD))
    first.now = NEXT_MORNING
    first.feed(Tick(now=NEXT_MORNING))
    assert LogCode.FLATTEN_LATE not in first.codes
    assert first.engine.flatten_pending is None


def test_with_the_eod_flatten_off_a_restart_across_days_flattens_nothing() -> None:
    config = EngineConfig(account=ACCOUNT, client_id=7, eod_flatten_at=None)
    first = Scenario(config)
    journal: list[Event] = [Tick(now=BEFORE_EOD)]
    first.feed(*journal)
    second = Scenario(config, connect=False)
    second.engine.replay(journal)
    second.feed(Tick(now=NEXT_MORNING))
    assert LogCode.FLATTEN_LATE not in second.codes
    assert second.engine.flatten_pending is None


def test_two_flatten_orders_never_placed_are_both_given_up_and_the_flatten_ends(
    sc: Scenario,
) -> None:
    sc.hold("a", "100")
    sc.hold("t", "5", TSLA)
    sc.flatten()
    for _ in range(3):  # every placeOrder answered with 103: not placed, each time
        for place in _places(sc)[-2:]:
            sc.feed(BrokerError(req_id=place.order_id, code=103, message="Duplicate order id"))
    (summary,) = sc.records(LogCode.FLATTEN_SUMMARY)
    assert summary.failures.count("not placed") == 2  # type: ignore[attr-defined]
    reasons = {check.name: check.reason for check in sc.engine.health().failures}
    assert "flatten-1-1: not placed; flatten-1-2: not placed" in reasons["flatten"]


def test_a_given_up_flatten_order_does_not_hold_back_the_resend_of_the_others(
    sc: Scenario,
) -> None:
    sc.hold("a", "100")
    sc.hold("t", "5", TSLA)
    sc.flatten()
    for _ in range(2):  # the first flatten order is refused twice: its third place goes out
        (place,) = [p for p in _places(sc) if p.oms_id == "flatten-1-1"][-1:]
        sc.feed(BrokerError(req_id=place.order_id, code=103, message="Duplicate order id"))
    sc.feed(ConnectionLost(reason="socket"))  # both unanswered: NEW until reconcile
    sc.connect(next_id=300)
    resent = [p.oms_id for p in _places(sc) if p.order_id >= 300]
    assert resent == ["flatten-1-2"]  # flatten-1-1 is given up; flatten-1-2 goes at once
    reasons = {check.name: check.reason for check in sc.engine.health().failures}
    assert "flatten pending" in reasons["flatten"]


def test_flatten_orders_dropped_from_the_rate_queue_go_out_after_the_reconnect() -> None:
    """More closing orders than the rate limit lets out at once: the rest wait in the queue,
    the socket dies and the queue is dropped. Those orders were never sent, so while the
    session is down no place attempt is spent on them; once it is back and reconciled every
    closing order of the run goes out."""
    sc = Scenario()
    for i in range(50):
        sc.hold(f"h{i}", "10", instrument=Instrument(symbol=f"S{i}", con_id=1000 + i))
        if i % 20 == 19:
            sc.tick(2)  # let the rate window pass
    sc.tick(2)
    sent_at_once = {place.oms_id for place in sc.flatten()}
    sc.feed(ConnectionLost(reason="socket"))
    for _ in range(5):  # broker time goes on while the session is down
        sc.tick(1)
    closing = {o.oms_id for o in sc.engine.orders() if o.oms_id.startswith("flatten-")}
    assert sent_at_once < closing  # some closing orders were still queued at the disconnect
    before_reconnect = len(sc.sent)
    sc.connect(next_id=5000)
    for _ in range(10):
        sc.tick(1)
    placed_again = {c.oms_id for c in sc.sent[before_reconnect:] if isinstance(c, PlaceOrder)}
    assert placed_again == closing
    assert not sc.records(LogCode.FLATTEN_SUMMARY)  # nothing given up
