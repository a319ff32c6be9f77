"""Broker time: the engine decides on the broker's clock, never the host's (CONN-05).

skew = broker - local, measured from reqCurrentTime answers. Schedules are wall-clock
times in the exchange's time zone (zoneinfo), evaluated on broker time: a schedule fires
when a tick crosses its moment, once per exchange-local day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["BrokerClock", "DailySchedule"]

_DAY = timedelta(days=1)


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
    day (its first tick has nothing before it). A tick far past the moment fires once, for
    the latest moment it crossed: `crossed` names that moment's day, which is earlier than
    today when the engine was down across a whole day boundary (a missed moment, late).
    """

    __slots__ = ("_at", "_last_seen", "_weekdays_only", "_zone")

    def __init__(self, at: time, zone: ZoneInfo, *, weekdays_only: bool = True) -> None:
        self._at = at
        self._zone = zone
        self._weekdays_only = weekdays_only
        self._last_seen: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.crossed(now) is not None

    def crossed(self, now: datetime) -> date | None:
        """The exchange-local day of the latest moment in (the previous tick, now], or None."""
        previous, self._last_seen = self._last_seen, now
        if previous is None:
            return None
        day = now.astimezone(self._zone).date()
        while True:  # back from today: at most a weekend and a day to the latest moment
            moment = datetime.combine(day, self._at, tzinfo=self._zone)
            if moment <= previous:
                return None
            if moment <= now and not (self._weekdays_only and day.weekday() >= 5):
                return day
            day -= _DAY
