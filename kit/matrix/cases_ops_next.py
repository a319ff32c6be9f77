"""OPS cases beyond the seed (CASES-NEXT.md): a connection that never comes back."""

from __future__ import annotations

from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.cases_sec_ops import _health as health
from ibguard.kit.matrix.stage import CLIENT_ID, StageMaker
from ibguard.kit.matrix.subject import HEALTH

__all__: list[str] = []

OUTAGE_SECONDS = 120


@implements("OPS-03", HEALTH)
def connection_never_restored(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", limit=None)
    stage.broker.refuse_connections("IB Gateway is up but not logged in")
    mark = stage.broker.requests.mark()
    stage.broker.drop(CLIENT_ID)  # the Sunday restart; every reconnect is refused from now on
    stage.advance(OUTAGE_SECONDS, step=5)
    report = health(stage.subject)
    stage.expect(
        not report.healthy and "connected" in report.failed_checks(),
        f"health does not fail its connected check {OUTAGE_SECONDS} s into an outage "
        f"(healthy={report.healthy}, failed checks {report.failed_checks()}): "
        "days of rejected orders with nothing reporting the loss",
    )
    attempts = len([r for r in stage.broker.requests.after_seq(mark) if r.request == "startApi"])
    stage.expect(attempts >= 2, f"{attempts} reconnect attempt(s) in {OUTAGE_SECONDS} s")
    stage.expect(
        attempts <= OUTAGE_SECONDS // 2,
        f"{attempts} reconnects in {OUTAGE_SECONDS} s: no backoff",
    )
    stage.submit("o2")
    stage.advance(5)
    facts = stage.expect_status("o2", "NEW", why="nothing can reach the broker: kept NEW")
    stage.expect(facts.perm_id is None, f"o2 has broker id {facts.perm_id} with no connection")
    stage.expect_code("CONNECTION_LOST")
