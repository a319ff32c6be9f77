"""CONN cases: the connection to the broker dies, is stolen, is stale, or runs on skewed time.

Each case scripts the SimBroker, acts through the subject and judges at the broker first
(placeOrders, cancels, startApi attempts per clientId), then on the subject's views and codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.stage import CLIENT_ID, STALE_AFTER, Stage, StageMaker
from ibguard.kit.matrix.subject import RESTART
from ibguard.kit.sim.book import SimOrder
from ibguard.kit.sim.script import DropConnection

__all__: list[str] = []

NEW_YORK = ZoneInfo("America/New_York")
SKEW = Decimal("47.3")
BROKER_CLOCK_RESOLUTION = Decimal(1)
"""reqCurrentTime answers whole seconds: a skew measured from it is off by up to 1 s."""
SKEW_TOLERANCE = BROKER_CLOCK_RESOLUTION + Decimal("0.5")  # + the measurement's own delay


def _no_duplicates(stage: Stage, oms_id: str) -> None:
    live = [o for o in stage.broker_orders(oms_id) if o.is_live or o.filled]
    stage.expect(
        len(live) <= 1,
        f"{len(live)} live broker orders for oms_id {oms_id}: a duplicate order is trading",
    )


@implements("CONN-01")
def mid_submit_disconnect(make: StageMaker) -> None:
    if make.variant == "lost":
        _placed_order_lost(make)
        return
    # Variant "received": the broker got the placeOrder, the answer was lost with the socket.
    stage = make().start()
    stage.broker.script.arm(DropConnection(received=True))
    stage.submit("o1")
    stage.expect(len(stage.broker_orders("o1")) == 1, "the broker should hold the order o1")
    stage.expect_status("o1", "NEW", why="no broker answer yet: its fate is unknown")
    stage.expect_code("SUBMIT_PENDING")
    stage.subject.submit("o1", stage.request())  # the strategy tries again while in doubt
    stage.advance(1)  # reconnect and reconcile
    stage.advance(1)
    _no_duplicates(stage, "o1")
    at_broker = stage.broker_order("o1")
    facts = stage.expect_status(
        "o1", "WORKING", why="the broker holds it working: reconcile must recover it"
    )
    stage.expect(
        facts.perm_id == at_broker.perm_id,
        f"o1 recovered with permId {facts.perm_id}, the broker's is {at_broker.perm_id}",
    )
    stage.subject.submit("o1", stage.request())  # a retry after recovery must be refused
    stage.advance(1)
    _no_duplicates(stage, "o1")
    stage.expect(
        len(stage.broker_orders("o1")) == 1,
        f"{len(stage.broker_orders('o1'))} broker orders for o1: resubmitted after recovery",
    )


def _placed_order_lost(make: StageMaker) -> None:
    """Variant "lost": the placeOrder never reached the broker."""
    lost = make().start()
    lost.broker.script.arm(DropConnection(received=False))
    lost.submit("o2")
    lost.expect_status("o2", "NEW", why="no broker answer: fate unknown until reconcile")
    lost.advance(1)
    lost.advance(1)
    lost.expect(
        not lost.broker_orders("o2"),
        "o2 was resubmitted automatically after the disconnect: the strategy decides a retry",
    )
    lost.expect_status("o2", "NEW", why="the broker never had it: it stays NEW for a retry")
    lost.expect_code("RECONCILE_NO_BROKER_RECORD")
    lost.subject.submit("o2", lost.request())
    lost.advance(1)
    lost.expect(len(lost.broker_orders("o2")) == 1, "the strategy's retry of o2 was not placed")


@implements("CONN-02", RESTART)
def orphan_fill_on_startup(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", quantity=5000)
    at_broker = stage.broker_order("o1")
    stage.broker.drop(CLIENT_ID)  # the engine process dies with the order working
    stage.broker.fill(at_broker.perm_id, Decimal(5000), Decimal("99.00"))
    _hide_from_order_reports(stage, at_broker)  # only its execution is left to see
    stage.subject.restart()
    stage.advance(1)
    stage.advance(1)
    facts = stage.expect_status(
        "o1", "FILLED", "PARTIALLY_FILLED", why="synthesized from the broker's execution"
    )
    stage.expect(facts.recovered, "the order built from an orphan fill is not flagged recovered")
    stage.expect(facts.filled == 5000, f"o1 filled {facts.filled}, the broker executed 5000")
    held = stage.subject.position(stage.instrument("AAPL"))
    stage.expect(held == 5000, f"woke up long {held} AAPL after an orphan fill of 5000")
    stage.expect_code("ORPHAN_FILL")


def _hide_from_order_reports(stage: Stage, order: SimOrder) -> None:
    """TWS's completed-orders report no longer lists a filled order (it completed before
    TWS's last restart) while its execution is still in the day's executions."""
    order.completed_time = stage.broker.day_started_at - timedelta(seconds=1)


@implements("CONN-03")
def stale_working_order(make: StageMaker) -> None:
    """No working order stays silent past the stale threshold without the engine asking the
    broker. An engine that polls open orders more often than that (good practice) never
    sees the order go stale: it passes without STATUS_STALE; one that waits for the
    threshold must log STATUS_STALE, ask, and clear pending_reconcile on the answer."""
    stage = make().start()
    stage.submit("o1")
    stage.expect_status("o1", "WORKING", why="the broker acknowledged it")
    stage.broker.stall(stage.broker_order("o1").perm_id)
    silent_since = stage.now
    mark = stage.broker.requests.mark()
    stage.advance(330, step=30)
    asked = [r.time for r in stage.broker.requests.after_seq(mark) if "OpenOrders" in r.request]
    gaps = [b - a for a, b in zip([silent_since, *asked], [*asked, stage.now], strict=True)]
    longest = max(gaps)
    stage.expect(
        bool(asked) and longest <= STALE_AFTER + timedelta(seconds=30),
        f"o1 stayed silent {longest.total_seconds():.0f} s without the engine asking the "
        f"broker (stale threshold {STALE_AFTER.total_seconds():.0f} s): capital frozen",
    )
    proactive = asked[0] - silent_since < STALE_AFTER
    if proactive:
        stage.figures["open_orders_polled"] = f"{len(asked)} times in 330 s"
    else:
        stage.expect_code("STATUS_STALE")
    facts = stage.expect_status("o1", "WORKING", why="the broker says it is still working")
    stage.expect(not facts.pending_reconcile, "pending_reconcile stays set after the answer")


@implements("CONN-04")
def same_client_id_twice(make: StageMaker) -> None:
    # At connect: another process already holds our clientId (error 326).
    stage = make()
    stage.broker.connect(CLIENT_ID, lambda message: None)  # the other process
    stage.start()
    stage.expect(stage.subject.halted, "the engine keeps trading after error 326")
    stage.expect_code("CONNECTION_STOLEN")
    stage.advance(60, step=1)
    attempts = len(stage.broker.requests.of("startApi", client_id=CLIENT_ID))
    stage.expect(attempts <= 2, f"{attempts - 1} connects with a clientId in use: a retry loop")

    # Mid-session: orders of our clientId that this engine did not place.
    live = make().start()
    live.broker.inject_order(
        client_id=CLIENT_ID,
        symbol="AAPL",
        action="BUY",
        quantity=Decimal(100),
        lmt_price=Decimal("98.00"),
    )
    live.expect(live.subject.halted, "another process trades on our clientId: no halt")
    mark = live.broker.requests.mark()
    live.submit("o2")
    live.advance(5, step=1)
    placed = live.broker.requests.placed()
    late = [r for r in placed if r.seq > mark]
    live.expect(not late, f"{len(late)} orders sent after the engine saw its clientId stolen")


@implements("CONN-05")
def clock_skew(make: StageMaker) -> None:
    # not on a whole second: a skew read from reqCurrentTime (whole seconds) is then off by
    # up to the clock's resolution, which the tolerance allows
    start = datetime(2024, 1, 2, 15, 40, 0, 600_000, tzinfo=NEW_YORK).astimezone(timezone.utc)
    stage = make(start=start, skew_seconds=SKEW)
    stage.start()
    stage.submit("o1", limit=None)  # a position for the EOD flatten to close
    stage.expect_record(
        "TIME_SKEW",
        lambda record: any(abs(abs(v) - SKEW) <= SKEW_TOLERANCE for v in _skews(record)),
        f"the measured skew ({SKEW} s, within {SKEW_TOLERANCE} s: the broker clock's "
        f"{BROKER_CLOCK_RESOLUTION} s resolution and the reading's delay) in a field named *skew*",
    )
    facts = stage.expect_status("o1", "FILLED", why="the market order filled at once")
    execution = stage.broker.ledger.executions[-1].execution
    if facts.shows_fill_time:  # the engine's own record of when it filled
        stored = facts.last_fill_at
        stage.expect(
            stored is not None and abs(stored - execution.time) < timedelta(seconds=2),
            f"o1's fill time is stored as {stored}, the broker executed it at {execution.time}: "
            "fill times must be broker times, not the host's skewed clock",
        )
    stage.advance_to(datetime(2024, 1, 2, 15, 49, 50, tzinfo=NEW_YORK))
    mark = stage.broker.requests.mark()
    stage.advance(70, step=1)
    flatten = [r for r in stage.broker.requests.after_seq(mark) if r.request == "placeOrder"]
    moment = datetime(2024, 1, 2, 15, 50, tzinfo=NEW_YORK)
    stage.expect(bool(flatten), "no EOD flatten by broker 15:51 with the host clock 47.3 s slow")
    first = flatten[0].time
    stage.expect(
        moment <= first < moment + timedelta(seconds=2),
        f"EOD flatten started at broker {first.astimezone(NEW_YORK):%H:%M:%S}, not 15:50:00: "
        "schedules must run on broker time",
    )


def _skews(record: Mapping[str, object]) -> list[Decimal]:
    """The numbers a TIME_SKEW record carries in fields named *skew* (seconds, or a
    timedelta)."""
    found = []
    for name, value in record.items():
        if "skew" not in name.lower() or isinstance(value, bool):
            continue
        seconds = value.total_seconds() if isinstance(value, timedelta) else value
        try:
            found.append(Decimal(str(seconds)))
        except ArithmeticError:
            continue
    return found
