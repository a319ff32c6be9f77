"""SEC and OPS cases: foreign orders, account switches, log files and the health view."""

from __future__ import annotations

import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.stage import ACCOUNT, CLIENT_ID, StageMaker
from ibguard.kit.matrix.subject import FLATTEN, HEALTH, HEALTH_HTTP, LOG_FILES, HealthView, Subject

__all__: list[str] = []

NEW_YORK = ZoneInfo("America/New_York")


@implements("SEC-01")
def manual_orders_on_the_algo_session(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", limit=None)
    broker = stage.broker
    manual = broker.inject_order(
        client_id=0,
        symbol="AAPL",
        action="BUY",
        quantity=Decimal(500),
        lmt_price=Decimal("98.00"),
        broadcast=True,
    )
    other = broker.inject_order(
        client_id=12,
        symbol="AAPL",
        action="SELL",
        quantity=Decimal(300),
        lmt_price=Decimal("98.00"),
        order_ref="other-system:x1",
        broadcast=True,
    )
    broker.fill(manual.perm_id, Decimal(500), Decimal("98.00"))
    broker.fill(other.perm_id, Decimal(300), Decimal("98.00"))
    stage.advance(1)
    held = stage.subject.position(stage.instrument("AAPL"))
    stage.expect(
        held == 100,
        f"the strategy's AAPL position is {held}; it owns 100, manual and other systems' "
        "fills must be left out",
    )
    stage.expect(not stage.subject.halted, "foreign orders on other clientIds halted the engine")
    stage.expect_code("FOREIGN_ORDER")


@implements("SEC-03", FLATTEN)
def cancel_all_spares_foreign_orders(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o0", limit=None)  # a position for the flatten to close
    stage.submit("o1")  # and a working order of ours
    broker = stage.broker
    foreign = {
        "the manual TWS order": broker.inject_order(
            client_id=0,
            symbol="AAPL",
            action="BUY",
            quantity=Decimal(200),
            lmt_price=Decimal("97.00"),
            broadcast=True,
        ),
        "the other system's order": broker.inject_order(
            client_id=12,
            symbol="MSFT",
            action="SELL",
            quantity=Decimal(50),
            lmt_price=Decimal("420.00"),
            order_ref="other-system:x1",
            broadcast=True,
        ),
    }
    stage.advance(1)
    mark = broker.requests.mark()
    stage.subject.flatten("end of day")
    stage.advance(5, step=1)
    sent = [r.request for r in broker.requests.after_seq(mark)]
    stage.expect(
        "reqGlobalCancel" not in sent,
        "the engine sent reqGlobalCancel: it cancels every order on the account, the "
        "operator's manual hedges and other systems' orders too",
    )
    for label, order in foreign.items():
        stage.expect(
            order.is_live, f"{label} (permId {order.perm_id}) was cancelled by the flatten"
        )
    ours = stage.broker_order("o1")
    cancels = [r for r in broker.requests.cancels() if r.seq > mark]
    stage.expect(
        any(r.order_id == ours.order_id for r in cancels) and not ours.is_live,
        "the flatten left the engine's own working order o1 live: it must cancel its own orders",
    )
    stage.expect_code("FOREIGN_ORDER")


@implements("SEC-02")
def account_switch_mid_session(make: StageMaker) -> None:
    stage = make().start()
    stage.broker.switch_account("DU7654321")
    stage.expect(stage.subject.halted, f"the session no longer manages {ACCOUNT}: no halt")
    mark = stage.broker.requests.mark()
    stage.submit("o1")
    stage.advance(5, step=1)
    late = [r for r in stage.broker.requests.placed() if r.seq > mark]
    stage.expect(not late, f"{len(late)} orders sent on a session for the wrong account")
    stage.expect_code("ACCOUNT_MISMATCH")


@implements("OPS-01", LOG_FILES)
def log_rotation(make: StageMaker) -> None:
    stage = make().start()
    backups, cap = 3, 4096
    with tempfile.TemporaryDirectory(prefix="ibguard-ops01-") as folder:
        directory = Path(folder)
        stage.subject.log_to(directory, max_bytes=cap, backups=backups)
        for number in range(150):
            stage.submit(f"v{number}")
            stage.subject.cancel(f"v{number}")
        stage.advance(1)
        files = sorted(p.name for p in directory.iterdir())
        stage.expect(len(files) > 1, "no rotation after far more than the size cap was logged")
        stage.expect(
            len(files) <= backups + 1,
            f"{len(files)} log files kept with backups={backups}: the disk fills up",
        )
        before = set(files)
        stage.advance_to(datetime(2024, 1, 3, 9, 0, tzinfo=NEW_YORK))
        stage.submit("next-day")
        after = {p.name for p in directory.iterdir()}
        stage.expect(bool(after - before), "no new log file after the day boundary")
        stage.expect(len(after) <= backups + 1, f"{len(after)} log files kept after the day")
        stage.stop_subject()  # release the files before the folder goes


def _health(subject: Subject) -> HealthView:
    """What the operator's monitor sees: the real /health over HTTP when the subject serves
    one, else the subject's own health view."""
    if HEALTH_HTTP in subject.capabilities:
        from ibguard.kit.matrix.health_endpoint import read_health

        return read_health(subject.health_url())
    return subject.health()


@implements("OPS-02", HEALTH)
def health_endpoint_lies(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", limit=None)
    stage.advance(1)
    report = _health(stage.subject)
    stage.expect(report.healthy, f"unhealthy with matching positions: {report.reasons}")
    stage.broker.force_position(ACCOUNT, "AAPL", Decimal(50))  # the books disagree
    stage.broker.drop(CLIENT_ID)
    stage.advance(1)  # reconnect, reconcile, positions
    stage.advance(1)
    report = _health(stage.subject)
    stage.expect(
        not report.healthy and "positions" in report.failed_checks(),
        "health does not fail its positions check while the engine holds 100 AAPL and the "
        f"broker 50 (healthy={report.healthy}, failed checks {report.failed_checks()}): "
        "blind trading",
    )
    stage.expect_code("HEALTH_POSITION_MISMATCH")

    # The overnight check: long after the day's EOD flatten (opened at 15:55, so no
    # scheduled flatten lies between the position and 04:00).
    night = make().start()
    night.advance_to(datetime(2024, 1, 2, 15, 55, tzinfo=NEW_YORK))
    night.submit("o1", limit=None)
    night.advance(1)
    held = night.subject.position(night.instrument("AAPL"))
    night.expect(held == 100, f"position AAPL {held} after a market order of 100 at 15:55")
    night.advance_to(datetime(2024, 1, 3, 3, 59, 30, tzinfo=NEW_YORK))
    report = _health(night.subject)
    night.expect(report.healthy, f"unhealthy before the 04:00 check: {report.reasons}")
    before = night.codes.count("HEALTH_POSITION_MISMATCH")
    night.advance(60, step=10)
    report = _health(night.subject)
    night.expect(
        not report.healthy and "overnight_flat" in report.failed_checks(),
        "health does not fail its overnight_flat check at 04:00 while long 100 AAPL "
        f"(healthy={report.healthy}, failed checks {report.failed_checks()})",
    )
    night.expect(
        night.codes.count("HEALTH_POSITION_MISMATCH") > before,
        "no HEALTH_POSITION_MISMATCH logged at the 04:00 check: the alert is not on record",
    )
