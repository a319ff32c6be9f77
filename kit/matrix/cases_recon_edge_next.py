"""EDGE and RECON cases beyond the seed (CASES-NEXT.md): execution times in the zone TWS
prints them in, and positions that change at the broker with no execution."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.cases_sec_ops import _health as health
from ibguard.kit.matrix.stage import ACCOUNT, CLIENT_ID, CaseNotPlayable, StageMaker
from ibguard.kit.matrix.subject import HEALTH, RESTART
from ibguard.kit.sim.broker import BrokerConfig
from ibguard.kit.sim.config import TWS_TIME_ZONE
from ibguard.kit.sim.messages import Position

__all__: list[str] = []

# the zone TWS prints execution times in, per variant (TWS uses the login's zone setting)
EXECUTION_ZONES = {"eastern": "US/Eastern", "met": "MET", "utc": "UTC", "no-zone": TWS_TIME_ZONE}
SUMMER_OPEN = datetime(2026, 8, 24, 13, 30, tzinfo=timezone.utc)  # 09:30 New York (EDT)


@implements("EDGE-05")
def execution_times_in_tws_zone(make: StageMaker) -> None:
    zone = EXECUTION_ZONES[make.variant or "eastern"]
    # a summer day: US/Eastern prints daylight time, which a fixed offset gets wrong;
    # no-zone: TWS prints "YYYYMMDD HH:MM:SS" in its login zone, which the engine is told
    summer = BrokerConfig(
        accounts=(ACCOUNT,),
        tws_time_zone=zone,
        tws_prints_zone=make.variant != "no-zone",
        start=SUMMER_OPEN,
    )
    stage = make(broker=summer).start()
    stage.advance(3600 * 5 + 12)  # a time whose wall clock differs in every zone
    stage.submit("o1", limit=None)
    facts = stage.expect_status("o1", "FILLED", why="the broker filled it at the market")
    if not facts.shows_fill_time:
        raise CaseNotPlayable("the engine's order view shows no fill time (`last_fill_at`)")
    executed = stage.broker.ledger.executions[-1].execution.time
    stored = facts.last_fill_at
    stage.expect(
        stored is not None
        and stored.tzinfo is not None
        and abs(stored - executed) < timedelta(seconds=1),
        f"o1's fill time is {stored}; the broker executed it at {executed} (printed in {zone}"
        f"{'' if make.variant != 'no-zone' else ', with no zone'}): "
        "fill times hours off for audit, EOD and skew logic",
    )


@implements("RECON-03", HEALTH)
def position_changes_without_execution(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", limit=None)
    stage.advance(1)
    # overnight the position is delivered away (an assignment): the position stream says 0,
    # and no execution exists for any order of ours
    stage.advance_to(stage.now.replace(hour=7, minute=30) + timedelta(days=1))
    mark = stage.broker.requests.mark()
    stage.broker.force_position(ACCOUNT, "AAPL", Decimal(0))
    listing = stage.broker.contracts.resolve("AAPL")
    assert listing is not None  # AAPL is in the catalog
    line = stage.broker.ledger.position_line(ACCOUNT, listing.contract)
    update = Position(
        account=ACCOUNT, contract=listing.contract, position=line.position, avgCost=line.avg_cost
    )
    stage.broker.post(stage.broker.session(CLIENT_ID), update)  # TWS's reqPositions stream
    stage.broker.flush()
    stage.advance(60, step=10)
    facts = stage.order("o1")
    stage.expect(
        facts.filled == 100,
        f"o1 filled {facts.filled} after a position change with no execution: a fill was made up",
    )
    placed = [r for r in stage.broker.requests.after_seq(mark) if r.request == "placeOrder"]
    stage.expect(
        not placed,
        f"{len(placed)} order(s) placed to 'repair' a position the broker changed itself",
    )
    report = health(stage.subject)
    stage.expect(
        not report.healthy and "positions" in report.failed_checks(),
        "health does not fail its positions check after the broker's AAPL went to 0 with no "
        f"execution while the engine holds 100 (failed checks {report.failed_checks()})",
    )
    stage.expect_code("HEALTH_POSITION_MISMATCH")


@implements("RECON-02", RESTART)
def startup_snapshot_plus_execution_replay(make: StageMaker) -> None:
    restart = make.variant == "restart"
    stage = make().start()
    stage.submit("o1", limit=None)  # E1
    stage.submit("o2", limit=None)  # E2
    stage.submit("o3")  # rests; it fills while the engine is away (E3)
    third = stage.broker_order("o3")
    stage.broker.refuse_connections("restarting")
    stage.broker.drop(CLIENT_ID)
    stage.broker.fill(third.perm_id, Decimal(100), Decimal("99.00"))
    stage.broker.refuse_connections(None)
    if restart:
        stage.subject.restart()  # memory lost: positions, executions and commissions replay
    stage.advance(1)
    stage.advance(1)
    stage.advance(5, step=1)
    broker_held = stage.broker.position("AAPL")
    held = stage.subject.position(stage.instrument("AAPL"))
    stage.expect(
        held == broker_held,
        f"position AAPL {held}, the broker's is {broker_held}: replayed executions counted "
        "again (or the one made while away missed)",
    )
    for oms_id in ("o1", "o2", "o3"):
        facts = stage.expect_status(oms_id, "FILLED", why="the broker filled it")
        stage.expect(
            facts.filled == 100, f"{oms_id} filled {facts.filled} from one execution of 100"
        )
    if not restart:
        stage.expect_code("FILL_DUPLICATE")
