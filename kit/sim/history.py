"""History at the simulated TWS: reqHistoricalData (with keepUpToDate), reqHeadTimeStamp,
reqMatchingSymbols and reqSecDefOptParams, answered from the broker's `Market` and catalog.

Owns parsing the request's texts the way TWS reads them (durations ``N S|D|W|M|Y``, bar sizes
``1 secs`` .. ``1 month``, endDateTime empty or ``yyyymmdd hh:mm:ss[ zone]`` or
``yyyymmdd-hh:mm:ss`` in UTC; without a zone the exchange's), building the bars, and the
keepUpToDate streams. Bars are aligned on the bar size from exchange-local midnight and
clipped to the trading sessions (the liquid ones with useRTH); daily, weekly and monthly bars
are one per session, ISO week and month. Dates are ``yyyymmdd`` for daily and longer bars;
intraday ``yyyymmdd hh:mm:ss <zone>`` (formatDate 1, the exchange's zone) or epoch seconds
(formatDate 2). Errors: an unknown contract 200; a malformed request 321; a span over
`MAX_BARS`, TRADES for FX, or a `PacingViolation` the script armed: 162, as TWS words them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from ibguard.kit.sim.clock import VirtualClock
from ibguard.kit.sim.delivery import Client, Delivery
from ibguard.kit.sim.instruments import Catalog, Instrument
from ibguard.kit.sim.market import Market
from ibguard.kit.sim.market_messages import (
    ContractDescription,
    HeadTimestamp,
    HistoricalBar,
    HistoricalData,
    HistoricalDataUpdate,
    SecurityDefinitionOptionParameter,
    SecurityDefinitionOptionParameterEnd,
    SymbolSamples,
)
from ibguard.kit.sim.messages import Contract, Error
from ibguard.kit.sim.prices import Bar
from ibguard.kit.sim.script import PacingViolation, Script

__all__ = ["HEAD", "MAX_BARS", "HistoryDesk", "parse_bar_size", "parse_duration", "parse_end"]

MAX_BARS: Final = 20_000  # candidate bars per request; beyond: "Time length exceed max."
HEAD: Final = datetime(2004, 1, 2, 14, 30, tzinfo=timezone.utc)  # the earliest data served
_HMDS: Final = "Historical Market Data Service error message:"
_WHAT: Final = {"TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK"}
_UNITS: Final = {"S": 1, "D": 86400, "W": 7 * 86400, "M": 30 * 86400, "Y": 365 * 86400}
_BAR_UNITS: Final = {"sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600}
_BAR_SECONDS: Final = {1, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1200, 1800}
_BAR_SECONDS_H: Final = {3600, 7200, 10800, 14400, 28800}
_PERIODS: Final = {
    "1 day": "day",
    "1 week": "week",
    "1w": "week",
    "1 month": "month",
    "1m": "month",
}
_LEGAL_SIZES: Final = (  # TWS's own list, verbatim in its error 321
    "1 secs, 5 secs, 10 secs, 15 secs, 30 secs, 1 min, 2 mins, 3 mins, 5 mins, 10 mins, "
    "15 mins, 20 mins, 30 mins, 1 hour, 2 hours, 3 hours, 4 hours, 8 hours, 1 day, 1W, 1M"
)
_END: Final = re.compile(r"^(\d{8})(?:[ -](\d{2}:\d{2}:\d{2}))?(?: (\S+))?$")


class RequestRefused(Exception):
    """A request TWS answers with an error instead of data (code, text)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def parse_duration(text: str) -> timedelta:
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit() or parts[1].upper() not in _UNITS:
        raise RequestRefused(
            321, f"Error validating request:-'bP' : cause - Invalid duration {text!r}"
        )
    return timedelta(seconds=int(parts[0]) * _UNITS[parts[1].upper()])


def parse_bar_size(text: str) -> timedelta | str:
    """A bar length, or "day" / "week" / "month" for calendar bars."""
    key = " ".join(text.split()).lower()
    if key in _PERIODS:
        return _PERIODS[key]
    parts = key.split()
    if len(parts) == 2 and parts[0].isdigit() and parts[1] in _BAR_UNITS:
        seconds = int(parts[0]) * _BAR_UNITS[parts[1]]
        if seconds in _BAR_SECONDS or seconds in _BAR_SECONDS_H:
            return timedelta(seconds=seconds)
    raise RequestRefused(
        321,
        "Error validating request.-'bK' : cause - Historical data bar size setting is invalid. "
        f"Legal ones are: {_LEGAL_SIZES}",
    )


def parse_end(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """endDateTime: empty = now; a zone in the text wins, a dash means UTC, else `zone`."""
    raw = text.strip()
    if not raw:
        return now
    m = _END.match(raw)
    try:
        if m is None:
            raise ValueError(raw)
        day, clock, tz = m.group(1), m.group(2) or "23:59:59", m.group(3)
        naive = datetime.strptime(f"{day} {clock}", "%Y%m%d %H:%M:%S")  # noqa: DTZ007 - zone below
        where = ZoneInfo(tz) if tz else (timezone.utc if "-" in raw else zone)
    except (ValueError, KeyError):
        raise RequestRefused(
            321, f"Error validating request:-'bP' : cause - Invalid end date/time {text!r}"
        ) from None
    return min(naive.replace(tzinfo=where).astimezone(timezone.utc), now)


@dataclass(frozen=True, slots=True, kw_only=True)
class BarRequest:
    instrument: Instrument
    end: datetime
    start: datetime
    size: timedelta | str
    what: str
    rth: bool
    format_date: int


@dataclass
class _Live:
    session: Client
    req_id: int
    request: BarRequest
    last: HistoricalBar | None = None


class HistoryDesk:
    def __init__(
        self,
        *,
        clock: VirtualClock,
        catalog: Catalog,
        market: Market,
        delivery: Delivery,
        script: Script,
    ) -> None:
        self._clock = clock
        self._catalog = catalog
        self._market = market
        self._delivery = delivery
        self._script = script  # an armed PacingViolation refuses a request with 162
        self._live: dict[tuple[int, int], _Live] = {}

    # --- reqHistoricalData ----------------------------------------------------------------

    def historical_data(
        self,
        session: Client,
        req_id: int,
        contract: Contract,
        *,
        end: str,
        duration: str,
        bar_size: str,
        what: str,
        use_rth: bool,
        format_date: int,
        keep_up_to_date: bool,
    ) -> None:
        try:
            instrument = self._resolve(contract)
            pacing = self._script.take(
                PacingViolation, symbol=instrument.symbol, client_id=session.client_id
            )
            if pacing is not None:
                raise RequestRefused(162, f"{_HMDS}Historical data request pacing violation")
            if keep_up_to_date and end.strip():
                raise RequestRefused(
                    321,
                    "Error validating request:-'bX' : cause - "
                    "End date not supported with live updates",
                )
            request = self._request(
                instrument,
                end_text=end,
                duration=duration,
                bar_size=bar_size,
                what=what,
                use_rth=use_rth,
                format_date=format_date,
            )
            bars = tuple(self.bars(request))
        except RequestRefused as refused:
            self._delivery.post(
                session, Error(reqId=req_id, errorCode=refused.code, errorString=refused.text)
            )
            return
        zone = instrument.liquid.zone
        self._delivery.post(
            session,
            HistoricalData(
                reqId=req_id,
                startDateStr=_stamp(request.start, zone, 1),
                endDateStr=_stamp(request.end, zone, 1),
                bars=bars,
            ),
        )
        if keep_up_to_date and isinstance(request.size, timedelta):
            self._live[(session.client_id, req_id)] = _Live(
                session, req_id, request, bars[-1] if bars else None
            )

    def cancel(self, session: Client, req_id: int) -> None:
        self._live.pop((session.client_id, req_id), None)

    def forget(self, session: Client) -> None:
        for key in [k for k in self._live if k[0] == session.client_id]:
            del self._live[key]

    def publish(self) -> None:
        """keepUpToDate: the bar being built now, when it changed."""
        now = self._clock.broker_now()
        for key, live in list(self._live.items()):
            if not live.session.connected:
                del self._live[key]
                continue
            size = live.request.size
            assert isinstance(size, timedelta)  # only intraday requests stream
            start = _floor_local(now, size, live.request.instrument.liquid.zone)
            bar = self._one(live.request, start, min(start + size, now + timedelta(microseconds=1)))
            if bar is not None and bar != live.last:
                live.last = bar
                self._delivery.post(live.session, HistoricalDataUpdate(reqId=live.req_id, bar=bar))

    def _request(
        self,
        instrument: Instrument,
        *,
        end_text: str,
        duration: str,
        bar_size: str,
        what: str,
        use_rth: bool,
        format_date: int,
    ) -> BarRequest:
        what = what.upper()
        if what not in _WHAT:
            raise RequestRefused(
                321, f"Error validating request:-'bP' : cause - Invalid whatToShow {what!r}"
            )
        if what == "TRADES" and instrument.sec_type == "CASH":
            raise RequestRefused(
                162,
                f"{_HMDS}No historical market data for {instrument.symbol}/CASH@IDEALPRO Last 1d",
            )
        if format_date not in (1, 2):
            raise RequestRefused(
                321, f"Error validating request:-'bP' : cause - Invalid formatDate {format_date}"
            )
        now = self._clock.broker_now()
        end = parse_end(end_text, instrument.liquid.zone, now)
        start = max(end - parse_duration(duration), HEAD)
        size = parse_bar_size(bar_size)
        step = size if isinstance(size, timedelta) else timedelta(days=1)
        if (end - start) / step > MAX_BARS:
            raise RequestRefused(162, f"{_HMDS}Time length exceed max.")
        return BarRequest(
            instrument=instrument,
            end=end,
            start=start,
            size=size,
            what=what,
            rth=use_rth,
            format_date=format_date,
        )

    def bars(self, r: BarRequest) -> Iterator[HistoricalBar]:
        inst = r.instrument
        sessions = inst.liquid if r.rth else inst.trading
        if isinstance(r.size, str):
            yield from self._period_bars(r, sessions)
            return
        for session in sessions.between(r.start, r.end):
            lo, hi = max(session.start, r.start), min(session.end, r.end)
            t = _floor_local(lo, r.size, sessions.zone)
            while t < hi:
                bar = self._one(r, t, min(t + r.size, hi), clip_from=lo)
                if bar is not None:
                    yield bar
                t += r.size

    def _period_bars(self, r: BarRequest, sessions: object) -> Iterator[HistoricalBar]:
        inst = r.instrument
        schedule = inst.liquid if r.rth else inst.trading
        groups: dict[date, list[tuple[datetime, datetime]]] = {}
        for s in schedule.between(r.start, r.end):
            day = s.end.astimezone(schedule.zone).date()  # a session counts for its closing day
            key = _period_key(day, str(r.size))
            groups.setdefault(key, []).append((max(s.start, r.start), min(s.end, r.end)))
        market = self._market
        for key, spans in groups.items():
            parts = [market.bar(inst, lo, hi, rth=r.rth) for lo, hi in spans if hi > lo]
            bars = [b for b in parts if b is not None]
            if bars:
                yield self._row(r, _merge(bars), f"{key:%Y%m%d}")

    def _one(
        self, r: BarRequest, start: datetime, end: datetime, *, clip_from: datetime | None = None
    ) -> HistoricalBar | None:
        lo = max(start, clip_from) if clip_from is not None else start
        if end <= lo:
            return None
        seconds = (end - lo).total_seconds()
        samples = max(1, min(32, int(seconds // 15)))  # a sample every 15 s, up to 32
        bar = self._market.bar(r.instrument, lo, end, rth=r.rth, samples=samples)
        if bar is None:
            return None
        # a bar cut by the session's open is labelled with the open (09:30, not 09:00)
        return self._row(r, bar, _stamp(lo, r.instrument.liquid.zone, r.format_date))

    def _row(self, r: BarRequest, bar: Bar, stamp: str) -> HistoricalBar:
        shift = self._market.side_shift(r.instrument, r.what)
        trades = r.what == "TRADES"
        o, h, lo, c = bar.open + shift, bar.high + shift, bar.low + shift, bar.close + shift
        if r.what == "BID_ASK":  # IB: open/close are time-averaged bid/ask, high/low the extremes
            bid = self._market.side_shift(r.instrument, "BID")
            ask = self._market.side_shift(r.instrument, "ASK")
            o, h, lo, c = bar.open + bid, bar.high + ask, bar.low + bid, bar.close + ask
        return HistoricalBar(
            date=stamp,
            open=o,
            high=h,
            low=lo,
            close=c,
            volume=bar.volume if trades else Decimal(-1),
            wap=bar.wap + shift if trades else Decimal(-1),
            barCount=bar.count if trades else -1,
        )

    # --- lookups ----------------------------------------------------------------------

    def head_timestamp(
        self, session: Client, req_id: int, contract: Contract, what: str, format_date: int
    ) -> None:
        try:
            instrument = self._resolve(contract)
            if what.upper() == "TRADES" and instrument.sec_type == "CASH":
                raise RequestRefused(162, f"{_HMDS}No head time stamp")
        except RequestRefused as refused:
            self._delivery.post(
                session, Error(reqId=req_id, errorCode=refused.code, errorString=refused.text)
            )
            return
        stamp = str(int(HEAD.timestamp())) if format_date == 2 else f"{HEAD:%Y%m%d-%H:%M:%S}"
        self._delivery.post(session, HeadTimestamp(reqId=req_id, headTimestamp=stamp))

    def matching_symbols(self, session: Client, req_id: int, pattern: str) -> None:
        catalog = self._catalog
        found = catalog.matching_symbols(pattern)
        descriptions = tuple(
            ContractDescription(
                contract=i.contract(),
                derivativeSecTypes=("OPT",) if catalog.derivatives(i.con_id) else (),
                description=i.long_name,
            )
            for i in found
        )
        self._delivery.post(session, SymbolSamples(reqId=req_id, descriptions=descriptions))

    def sec_def_opt_params(
        self,
        session: Client,
        req_id: int,
        *,
        symbol: str,
        exchange: str,
        sec_type: str,
        con_id: int,
    ) -> None:
        """One row per exchange the chain trades on (only SMART here), then the end; an
        underlying without options gets the end alone, as TWS answers."""
        catalog = self._catalog
        chain = [o for o in catalog.derivatives(con_id) if o.symbol == symbol or not symbol]
        if exchange:
            chain = [o for o in chain if o.exchange == exchange]
        by_class: dict[str, list[Instrument]] = {}
        for option in chain:
            by_class.setdefault(option.trading_class, []).append(option)
        for trading_class, options in sorted(by_class.items()):
            self._delivery.post(
                session,
                SecurityDefinitionOptionParameter(
                    reqId=req_id,
                    exchange=options[0].exchange,
                    underlyingConId=con_id,
                    tradingClass=trading_class,
                    multiplier=options[0].multiplier,
                    expirations=tuple(sorted({o.last_trade_date for o in options})),
                    strikes=tuple(sorted({o.strike for o in options})),
                ),
            )
        self._delivery.post(session, SecurityDefinitionOptionParameterEnd(reqId=req_id))

    def _resolve(self, contract: Contract) -> Instrument:
        found = self._catalog.find(contract)
        if len(found) != 1:
            raise RequestRefused(200, "No security definition has been found for the request")
        return found[0]


def _stamp(when: datetime, zone: ZoneInfo, format_date: int) -> str:
    if format_date == 2:
        return str(int(when.timestamp()))
    local = when.astimezone(zone)
    return f"{local:%Y%m%d %H:%M:%S} {zone.key}"


def _floor_local(when: datetime, size: timedelta, zone: ZoneInfo) -> datetime:
    local = when.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = (local - midnight) // size
    return (midnight + steps * size).astimezone(timezone.utc)


def _period_key(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _merge(bars: list[Bar]) -> Bar:
    volume = sum((b.volume for b in bars), Decimal(0))
    first, last = bars[0], bars[-1]
    wap = sum((b.wap * b.volume for b in bars), Decimal(0)) / volume if volume else first.wap
    return Bar(
        first.start,
        first.open,
        max(b.high for b in bars),
        min(b.low for b in bars),
        last.close,
        volume,
        wap.quantize(first.wap) if volume else wap,
        sum(b.count for b in bars),
    )
