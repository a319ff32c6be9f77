"""Broker time: the engine decides on the broker's clock, never the host's (CONN-05).

skew = broker - local, measured from reqCurrentTime answers. Schedules are wall-clock
times in the exchange's time zone (zoneinfo), evaluated on broker time: a schedule fires
when a tick crosses its moment, once per exchange-local day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["BrokerClock", "DailySchedule"]


class BrokerClock:
    __slots__ = ("_skew",)

    def __init__(self) -> None:
        self._skew: timedelta | None = None

    @property
    def skew(self) -> timedelta | None:
        return self._skew

    def measure(self, broker_time: datetime, local_time: datetime) -> timedelta:
        self._skew = broker_time - local_time
        return self._skew

    def to_broker(self, local_time: datetime) -> datetime:
        """Local clock reading -> broker time (unchanged until a skew was measured)."""
        return local_time + (self._skew or timedelta(0))


class DailySchedule:
    """Fires when broker time crosses `at` (exchange-local) on a weekday.

    Crossing, not reaching: an engine started after the moment does not fire until the next
    day, and a tick far past it fires once for today only.
    """

    __slots__ = ("_at", "_last_seen", "_weekdays_only", "_zone")

    def __init__(self, at: time, zone: ZoneInfo, *, weekdays_only: bool = True) -> None:
        self._at = at
        self._zone = zone
        self._weekdays_only = weekdays_only
        self._last_seen: datetime | None = None

    def due(self, now: datetime) -> bool:
        previous, self._last_seen = self._last_seen, now
        local = now.astimezone(self._zone)
        if previous is None or (self._weekdays_only and local.weekday() >= 5):
            return False
        moment = datetime.combine(local.date(), self._at, tzinfo=self._zone)
        return previous < moment <= now
