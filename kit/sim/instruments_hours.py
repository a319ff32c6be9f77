"""When an instrument trades: weekly sessions in the exchange's time zone, in TWS's format.

Owns the session template of one instrument (`Sessions`): which weekdays a session opens on,
its open and close time (a close at or before the open crosses midnight, as FX and CME
futures do), the exchange's holiday calendar, and the answers built from them: TWS's
``tradingHours`` / ``liquidHours`` text (``20240102:0930-20240102:1600;20240106:CLOSED``),
whether a moment is inside a session, and the sessions that overlap a span (for bars).

Holidays (`CALENDARS`): a session whose trading day (the day it closes on) is a holiday of
its calendar does not happen, so that day reads ``YYYYMMDD:CLOSED`` and the price model is
closed. "NYSE" is the US equity calendar (NYSE and NASDAQ: New Year's Day, Martin Luther
King Jr. Day, Washington's Birthday, Good Friday, Memorial Day, Juneteenth, Independence
Day, Labor Day, Thanksgiving, Christmas; a Saturday holiday is observed the Friday before
(not for New Year's Day), a Sunday one the Monday after; plus the closures NYSE announced
apart, such as 2025-01-09). "CME" is CME Globex's full closures for equity index futures
(New Year's Day, Good Friday, Christmas; the early halts of the other US holidays are not
modelled). IDEALPRO (FX) closes on weekends only. Times in and out are aware datetimes; the
exchange zone comes from zoneinfo.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from ibguard.errors import UsageError

__all__ = [
    "CALENDARS",
    "Session",
    "Sessions",
    "calendar_for",
    "cme_holidays",
    "parse_sessions",
    "us_equity_holidays",
]

_DAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SPEC: Final = re.compile(r"^(\d{4})-(\d{4}) ([A-Z]{2})(?:-([A-Z]{2}))?$")


# Days NYSE closed apart from its rules (national days of mourning).
_NYSE_SPECIAL_CLOSURES: Final = frozenset({date(2025, 1, 9)})
_US_EQUITY_EXCHANGES: Final = frozenset({"NYSE", "NASDAQ", "ISLAND", "ARCA", "AMEX", "BATS"})
_CME_EXCHANGES: Final = frozenset({"CME", "CBOT", "NYMEX", "COMEX", "GLOBEX"})


def _easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The `n`th `weekday` (Monday = 0) of the month; n = -1 is the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date | None:
    """NYSE's rule: a Saturday holiday closes the Friday before, a Sunday one the Monday
    after; a New Year's Day on a Saturday is not observed (the Friday is another year's)."""
    if day.weekday() == 5:
        return None if (day.month, day.day) == (1, 1) else day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def us_equity_holidays(year: int) -> frozenset[date]:
    """The days NYSE and NASDAQ are closed in ``year`` (weekdays; weekends aside)."""
    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 12, 25)]
    if year >= 2022:
        fixed.append(date(year, 6, 19))  # Juneteenth, an NYSE holiday since 2022
    days = {d for d in map(_observed, fixed) if d is not None}
    days |= {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
    }
    return frozenset(days | {d for d in _NYSE_SPECIAL_CLOSURES if d.year == year})


@lru_cache(maxsize=64)
def cme_holidays(year: int) -> frozenset[date]:
    """The days CME Globex equity index futures do not trade at all in ``year``."""
    observed = (_observed(date(year, 1, 1)), _observed(date(year, 12, 25)))
    return frozenset({d for d in observed if d is not None} | {_easter(year) - timedelta(2)})


CALENDARS: Final[dict[str, Callable[[int], frozenset[date]]]] = {
    "NYSE": us_equity_holidays,
    "CME": cme_holidays,
}


def calendar_for(sec_type: str, exchange: str, primary_exchange: str) -> str:
    """The holiday calendar of a listing: US equity exchanges' for stocks (and the options on
    them), CME's for its futures, none for FX (IDEALPRO) and anything else."""
    listed = primary_exchange or exchange
    if sec_type in ("STK", "OPT") and listed in _US_EQUITY_EXCHANGES:
        return "NYSE"
    if sec_type == "FUT" and exchange in _CME_EXCHANGES:
        return "CME"
    return ""


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
    """A weekly session template in one zone (e.g. ``0930-1600 MO-FR`` in US/Eastern), closed
    on the holidays of `calendar` (a key of `CALENDARS`; "" for none)."""

    zone: ZoneInfo
    templates: tuple[_Template, ...]
    calendar: str = ""

    def closed_on(self, day: date) -> bool:
        """Whether `day` (exchange-local) is a holiday of this calendar."""
        holidays = CALENDARS.get(self.calendar)
        return holidays is not None and day in holidays(day.year)

    def with_calendar(self, calendar: str) -> Sessions:
        if calendar and calendar not in CALENDARS:
            raise UsageError(f"unknown holiday calendar {calendar!r}: one of {sorted(CALENDARS)}")
        return Sessions(self.zone, self.templates, calendar)

    def on(self, day: date) -> list[Session]:
        """The sessions opening on `day` (exchange-local date); a session whose trading day
        (the day it closes on) is a holiday does not open."""
        out = []
        for t in self.templates:
            if day.weekday() not in t.weekdays:
                continue
            end_day = day + timedelta(days=1) if t.crosses_midnight else day
            if self.closed_on(end_day):
                continue
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
