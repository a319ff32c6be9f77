"""When an instrument trades: weekly sessions in the exchange's time zone, in TWS's format.

Owns the session template of one instrument (`Sessions`): which weekdays a session opens on,
its open and close time (a close at or before the open crosses midnight, as FX and CME
futures do), and the answers built from it: TWS's ``tradingHours`` / ``liquidHours`` text
(``20240102:0930-20240102:1600;20240106:CLOSED``), whether a moment is inside a session, and
the sessions that overlap a span (for bars). Holidays are not modelled: every listed weekday
trades. Times in and out are aware datetimes; the exchange zone comes from zoneinfo.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from ibguard.errors import UsageError

__all__ = ["Session", "Sessions", "parse_sessions"]

_DAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SPEC: Final = re.compile(r"^(\d{4})-(\d{4}) ([A-Z]{2})(?:-([A-Z]{2}))?$")


@dataclass(frozen=True, slots=True)
class Session:
    """One trading session: opens at `open` on `day`, closes at `close` (next day if the
    close is not after the open), all in the exchange's zone."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class _Template:
    open: time
    close: time
    weekdays: frozenset[int]  # the days a session opens on, Monday = 0

    @property
    def crosses_midnight(self) -> bool:
        return self.close <= self.open


@dataclass(frozen=True, slots=True)
class Sessions:
    """A weekly session template in one zone (e.g. ``0930-1600 MO-FR`` in US/Eastern)."""

    zone: ZoneInfo
    templates: tuple[_Template, ...]

    def on(self, day: date) -> list[Session]:
        """The sessions opening on `day` (exchange-local date)."""
        out = []
        for t in self.templates:
            if day.weekday() not in t.weekdays:
                continue
            end_day = day + timedelta(days=1) if t.crosses_midnight else day
            start = datetime.combine(day, t.open, self.zone)
            end = datetime.combine(end_day, t.close, self.zone)
            out.append(Session(start, end))
        return sorted(out, key=lambda s: s.start)

    def between(self, start: datetime, end: datetime) -> Iterator[Session]:
        """Sessions overlapping [start, end), oldest first."""
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            for s in self.on(day):
                if s.end > start and s.start < end:
                    yield s
            day += timedelta(days=1)

    def session_at(self, when: datetime) -> Session | None:
        """The session `when` falls in (open inclusive, close exclusive), or None."""
        return next(self.between(when, when + timedelta(microseconds=1)), None)

    def last_close(self, when: datetime) -> datetime | None:
        """The end of the latest session that ended at or before `when` (two weeks back)."""
        day = when.astimezone(self.zone).date()
        for back in range(15):
            ends = [s.end for s in self.on(day - timedelta(days=back)) if s.end <= when]
            if ends:
                return max(ends)
        return None

    def tws_text(self, today: date, days: int = 7) -> str:
        """TWS's tradingHours/liquidHours for `days` exchange-local days from `today`:
        ``YYYYMMDD:HHMM-YYYYMMDD:HHMM`` per session, ``YYYYMMDD:CLOSED`` for a day that no
        session touches."""
        parts = [  # a session still running today that opened yesterday comes first
            f"{s.start:%Y%m%d:%H%M}-{s.end:%Y%m%d:%H%M}"
            for s in self.on(today - timedelta(days=1))
            if s.end.date() == today
        ]
        for n in range(days):
            day = today + timedelta(days=n)
            opening = self.on(day)
            for s in opening:
                parts.append(f"{s.start:%Y%m%d:%H%M}-{s.end:%Y%m%d:%H%M}")
            if not opening and not any(
                s.end.date() == day for s in self.on(day - timedelta(days=1))
            ):
                parts.append(f"{day:%Y%m%d}:CLOSED")
        return ";".join(parts)


def parse_sessions(zone: str, specs: list[str] | tuple[str, ...]) -> Sessions:
    """Sessions from specs like ``"0930-1600 MO-FR"`` or ``"1715-1700 SU-TH"`` (the days a
    session opens on) in IANA/IB zone `zone` (``US/Eastern``). Raises UsageError."""
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        raise UsageError(f"unknown time zone {zone!r}") from None
    if not specs:
        raise UsageError("at least one session is needed, like '0930-1600 MO-FR'")
    templates = []
    for spec in specs:
        m = _SPEC.match(spec.strip())
        if m is None or m.group(3) not in _DAYS or (m.group(4) or "MO") not in _DAYS:
            raise UsageError(f"session {spec!r} is not like '0930-1600 MO-FR'")
        first = _DAYS.index(m.group(3))
        last = _DAYS.index(m.group(4)) if m.group(4) else first
        span = (last - first) % 7
        weekdays = frozenset((first + i) % 7 for i in range(span + 1))
        templates.append(_Template(_hhmm(m.group(1), spec), _hhmm(m.group(2), spec), weekdays))
    return Sessions(tz, tuple(templates))


def _hhmm(raw: str, spec: str) -> time:
    hours, minutes = int(raw[:2]), int(raw[2:])
    if hours > 23 or minutes > 59:
        raise UsageError(f"session {spec!r}: {raw} is not a time of day")
    return time(hours, minutes)
