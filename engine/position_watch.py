"""Engine positions against the broker's (OPS-02): the watch behind the health checks.

The broker's position in our account must equal the engine's own fills plus the foreign
fills it saw (manual or other systems' trades, SEC-01). The comparison is made when a
broker position arrives, against the engine's book at that moment, so fills still in
flight never raise a false alarm. At the overnight check (04:00 broker time) the book
must be flat.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from ibguard.engine.book import Book
from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.events import PositionReport
from ibguard.engine.flatten import describe_exposure
from ibguard.engine.health import HealthCheck
from ibguard.engine.logcodes import LogCode

__all__ = ["PositionWatch"]


class PositionWatch:
    def __init__(self, config: EngineConfig, book: Book, log: DecisionLog) -> None:
        self._config = config
        self._book = book
        self._log = log
        self.broker: dict[str, Decimal] = {}
        self._known = False
        self._mismatch: dict[str, str] = {}  # instrument key -> what disagrees
        self._not_flat_overnight: tuple[str, ...] = ()

    def on_position(self, report: PositionReport) -> None:
        """A live position update (reqPositions keeps streaming them): only its
        instrument is compared again, so the cost does not grow with the book."""
        if self._store(report) and self._known:
            self._compare((report.instrument.key,))

    def on_snapshot(self, reports: tuple[PositionReport, ...]) -> None:
        """Every position up to positionEnd: compared once, complete."""
        self.broker = {}
        for report in reports:
            self._store(report)
        self._known = True
        own, foreign = self._book.positions, self._book.foreign_positions
        self._mismatch = {}
        self._compare(set(own) | set(foreign) | set(self.broker))

    def _store(self, report: PositionReport) -> bool:
        if report.account != self._config.account:
            return False  # other accounts the login can see are not ours to compare
        self.broker[report.instrument.key] = report.quantity
        self._book.know(report.instrument)
        return True

    def overnight_check(self) -> None:
        self._not_flat_overnight = describe_exposure(self._book.positions, self._book.instruments)
        if self._not_flat_overnight:
            self._log.alert(
                LogCode.HEALTH_POSITION_MISMATCH,
                "not flat at the overnight check",
                check="overnight_flat",
                exposure=", ".join(self._not_flat_overnight),
            )

    def checks(self) -> tuple[HealthCheck, ...]:
        flat_now = not any(self._book.positions.values())
        return (
            HealthCheck(
                name="positions",
                ok=not self._mismatch,
                reason="; ".join(self._mismatch[key] for key in sorted(self._mismatch)),
            ),
            HealthCheck(
                name="overnight_flat",
                ok=not self._not_flat_overnight or flat_now,
                reason=", ".join(self._not_flat_overnight),
            ),
        )

    def _compare(self, keys: Iterable[str]) -> None:
        before = dict(self._mismatch)
        own, foreign = self._book.positions, self._book.foreign_positions
        for key in keys:
            expected = own.get(key, Decimal(0)) + foreign.get(key, Decimal(0))
            actual = self.broker.get(key, Decimal(0))
            if abs(expected - actual) > self._config.position_tolerance:
                symbol = self._book.instruments[key].symbol
                self._mismatch[key] = f"{symbol}: engine {expected}, broker {actual}"
            else:
                self._mismatch.pop(key, None)
        if self._mismatch and self._mismatch != before:
            self._log.alert(
                LogCode.HEALTH_POSITION_MISMATCH,
                "engine and broker positions disagree",
                check="positions",
                mismatch="; ".join(self._mismatch[key] for key in sorted(self._mismatch)),
            )
