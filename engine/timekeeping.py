"""Broker time as the engine keeps it: the latest tick, the measured skew, the daily
schedules (EOD flatten, overnight check) and the fill rate between ticks.

Everything here runs on broker time from ticks (CONN-05); the host clock enters only
through the skew measured from reqCurrentTime answers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ibguard.engine.clock import BrokerClock, DailySchedule
from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.events import ServerTime
from ibguard.engine.logcodes import LogCode

__all__ = ["Timekeeper"]

_TENTH = Decimal("0.1")


class Timekeeper:
    __slots__ = (
        "_clock",
        "_eod",
        "_log",
        "_overnight",
        "_restarted",
        "_skew_tolerance",
        "_zone",
        "fills_since_tick",
        "fills_total",
        "now",
    )

    def __init__(self, config: EngineConfig, log: DecisionLog) -> None:
        self._log = log
        self._clock = BrokerClock()
        self._skew_tolerance = config.skew_tolerance
        zone = self._zone = config.zone
        self._eod = DailySchedule(config.eod_flatten_at, zone) if config.eod_flatten_at else None
        self._overnight = (
            DailySchedule(config.overnight_check_at, zone) if config.overnight_check_at else None
        )
        self.now: datetime | None = None  # the latest broker time seen (from ticks)
        self._restarted = False  # a new process took over since the latest tick
        self.fills_since_tick = 0  # counted by the engine per applied fill
        self.fills_total = 0

    def tick(self, now: datetime) -> tuple[bool, bool]:
        """Broker time moves to `now`: logs the fill rate since the last tick. Returns
        whether the EOD flatten and the overnight check are due."""
        previous, self.now = self.now, now
        fills = self.fills_since_tick
        if fills and previous is not None and now > previous:
            seconds = Decimal(str((now - previous).total_seconds()))
            self._log.info(
                LogCode.FILL_RATE,
                "fills applied since the last tick",
                fills=fills,
                per_second=(fills / seconds).quantize(_TENTH),
            )
        self.fills_since_tick = 0
        eod = self._eod_due(now)
        overnight = self._overnight is not None and self._overnight.due(now)
        return eod, overnight

    def restarted(self) -> None:
        """A new process replayed the journal: the time to the next tick is time it was down."""
        self._restarted = True

    def _eod_due(self, now: datetime) -> bool:
        restarted, self._restarted = self._restarted, False
        if self._eod is None:
            return False
        day = self._eod.crossed(now)
        if day is None:
            return False
        if day == now.astimezone(self._zone).date():
            return True
        if not restarted:
            # a running process that was not ticked across a day (a harness moving time):
            # it was up, so the day's flatten was its own; as before, nothing runs late
            return False
        # down across a whole day boundary: that day's flatten is not lost, it runs late
        # (once, whatever the number of days missed), once the session is up and
        # reconciled; until it is done /health reports the flatten pending
        self._log.alert(
            LogCode.FLATTEN_LATE,
            "the EOD flatten was missed while the engine was down: flattening now",
            missed_day=day.isoformat(),
        )
        return True

    def server_time(self, event: ServerTime) -> None:
        skew = self._clock.measure(event.broker_time, event.local_time)
        if abs(skew) > self._skew_tolerance:
            self._log.warning(
                LogCode.TIME_SKEW,
                "host clock differs from broker time: deciding on broker time",
                skew_seconds=Decimal(str(skew.total_seconds())),
            )

    @property
    def skew(self) -> float | None:
        """Measured broker - local clock difference in seconds, None before any reading."""
        skew = self._clock.skew
        return None if skew is None else skew.total_seconds()

    def to_broker(self, local_time: datetime) -> datetime:
        return self._clock.to_broker(local_time)
