"""The simulated market: one price path per instrument of a catalog, and what it quotes.

Owns the paths (built on first use, kept for their pins), the single source of prices for
quotes, bars, option analytics and fills. Stocks, FX and futures quote their own path, frozen
outside their trading sessions; an option quotes its Black-Scholes value on the underlying's
mid (the implied volatility is the chain's, the rate `RATE`), with a spread of 2 % of the
value (at least one tick). Pins (`gap_to`, `freeze`, `unfreeze`) change an instrument's path
from a moment on; an option follows its underlying's pins.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Final

from ibguard.errors import UsageError
from ibguard.kit.sim.instruments import Catalog, Instrument
from ibguard.kit.sim.option_pricing import Greeks, black_scholes
from ibguard.kit.sim.prices import DEFAULT_ANCHOR, Bar, PricePath, Quote, on_tick

__all__ = ["RATE", "DayStats", "Market", "OptionAnalytics"]

RATE: Final = 0.05  # the risk-free rate of the option model
_YEAR: Final = 365.0 * 86400


@dataclass(frozen=True, slots=True)
class OptionAnalytics:
    """What tickOptionComputation carries for one option at one moment."""

    implied_vol: float
    greeks: Greeks
    underlying_price: Decimal


@dataclass(frozen=True, slots=True)
class DayStats:
    """The current (or latest) regular session so far: what the open/high/low/close and
    volume ticks report. None where the instrument has no such value (options)."""

    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    prior_close: Decimal | None
    volume: Decimal


class Market:
    def __init__(self, catalog: Catalog, *, anchor: datetime = DEFAULT_ANCHOR) -> None:
        self.catalog = catalog
        self.anchor = anchor
        self._paths: dict[int, PricePath] = {}
        # one entry per instrument: many subscribers ask about the same moment
        self._quotes: dict[int, tuple[datetime, Quote]] = {}
        self._days: dict[int, tuple[datetime, DayStats]] = {}
        # per instrument: the session's bar up to a whole minute, and the prior close
        self._minutes: dict[int, tuple[datetime, tuple[Bar | None, Decimal | None]]] = {}

    def path(self, instrument: Instrument) -> PricePath:
        """The path of a non-option instrument (an option's is its underlying's)."""
        path = self._paths.get(instrument.con_id)
        if path is None:
            sessions = instrument.trading
            path = PricePath(
                instrument.price,
                key=instrument.key,
                anchor=self.anchor,
                is_open=lambda when: sessions.session_at(when) is not None,
                last_close=sessions.last_close,
            )
            self._paths[instrument.con_id] = path
        return path

    def quote(self, instrument: Instrument, when: datetime) -> Quote:
        cached = self._quotes.get(instrument.con_id)
        if cached is not None and cached[0] == when:
            return cached[1]
        quote = self._quote(instrument, when)
        self._quotes[instrument.con_id] = (when, quote)
        return quote

    def _quote(self, instrument: Instrument, when: datetime) -> Quote:
        if instrument.sec_type != "OPT":
            return self.path(instrument).quote(when)
        analytics = self.option_analytics(instrument, when)
        tick = instrument.min_tick
        theo = Decimal(repr(analytics.greeks.price))
        spread = max(on_tick(theo * Decimal("0.02"), tick), tick)
        bid_steps = int(((theo - spread / 2) / tick).to_integral_value(ROUND_FLOOR))
        bid = Decimal(max(bid_steps, 0)) * tick
        ask = bid + spread
        size = Decimal(10)
        return Quote(when, bid, ask, ask, size, size, Decimal(1))

    def price(self, instrument: Instrument, when: datetime) -> Decimal:
        """The mid on the tick grid (what a position is marked at)."""
        if instrument.sec_type == "OPT":
            q = self.quote(instrument, when)
            return on_tick(q.mid, instrument.min_tick)
        return self.path(instrument).price(when)

    def option_analytics(self, option: Instrument, when: datetime) -> OptionAnalytics:
        underlying = self.catalog.underlying(option)
        if underlying is None:
            raise UsageError(f"option {option.key} has no underlying in the catalog")
        spot = self.path(underlying).quote(when).mid
        zone = underlying.liquid.zone
        expiry = datetime.strptime(option.last_trade_date, "%Y%m%d").date()  # noqa: DTZ007
        expires = datetime.combine(expiry, time(16), zone)
        years = max((expires - when).total_seconds(), 0.0) / _YEAR
        vol = float(option.price.volatility)
        greeks = black_scholes(
            spot=float(spot),
            strike=float(option.strike),
            years=years,
            volatility=vol,
            rate=RATE,
            right=option.right,
        )
        return OptionAnalytics(implied_vol=vol, greeks=greeks, underlying_price=spot)

    def bar(
        self,
        instrument: Instrument,
        start: datetime,
        end: datetime,
        *,
        rth: bool,
        samples: int = 32,
    ) -> Bar | None:
        """One bar of the instrument's mid over [start, end), clipped to its sessions (the
        liquid ones with `rth`); None when nothing of the span trades."""
        path = self.path(self._priced(instrument))
        sessions = list((instrument.liquid if rth else instrument.trading).between(start, end))
        if not sessions:
            return None
        lo = max(start, sessions[0].start)
        hi = min(end, sessions[-1].end)
        if hi <= lo:
            return None
        bar = path.bar(lo, hi, samples, check_open=len(sessions) > 1)
        return bar if bar is None else replace(bar, start=start)

    def day_stats(self, instrument: Instrument, when: datetime) -> DayStats:
        cached = self._days.get(instrument.con_id)
        if cached is not None and cached[0] == when:
            return cached[1]
        stats = self._day_stats(instrument, when)
        self._days[instrument.con_id] = (when, stats)
        return stats

    def _day_stats(self, instrument: Instrument, when: datetime) -> DayStats:
        if instrument.sec_type == "OPT":
            return DayStats(None, None, None, None, Decimal(0))
        path = self.path(instrument)
        liquid = instrument.liquid
        today = liquid.session_at(when)
        if today is None:
            close = liquid.last_close(when)
            if close is None:
                return DayStats(None, None, None, None, Decimal(0))
            today = liquid.session_at(close - timedelta(microseconds=1))
            assert today is not None  # the session that closed there
        until = min(when, today.end)
        if until <= today.start:
            before = liquid.last_close(today.start)
            prior = path.price(before - timedelta(microseconds=1)) if before is not None else None
            return DayStats(None, None, None, prior, Decimal(0))
        # the session up to the last whole minute (worked out once a minute), then now
        minute = max(until.replace(second=0, microsecond=0), today.start)
        cached = self._minutes.get(instrument.con_id)
        base = cached[1] if cached is not None and cached[0] == minute else None
        if base is None:
            before = liquid.last_close(today.start)
            prior = path.price(before - timedelta(microseconds=1)) if before is not None else None
            bar = path.bar(today.start, minute, check_open=False) if minute > today.start else None
            base = (bar, prior)
            self._minutes[instrument.con_id] = (minute, base)
        bar, prior = base
        now = path.price(until - timedelta(microseconds=1))
        volume = path.volume_between(today.start, until)
        if bar is None:
            return DayStats(now, now, now, prior, volume)
        return DayStats(bar.open, max(bar.high, now), min(bar.low, now), prior, volume)

    def side_shift(self, instrument: Instrument, what: str) -> Decimal:
        """How far BID or ASK bars sit from the mid bars, on the tick grid as the quotes do
        (a one-tick spread quotes the mid tick as the ask)."""
        tick, spread = instrument.min_tick, instrument.price.spread_ticks
        bid = -tick * ((spread + 1) // 2)
        return {"BID": bid, "ASK": bid + tick * spread}.get(what, Decimal(0))

    def gap_to(self, instrument: Instrument, when: datetime, price: Decimal) -> None:
        self.path(self._priced(instrument)).gap_to(when, price)
        self._forget()

    def freeze(self, instrument: Instrument, when: datetime, price: Decimal | None = None) -> None:
        self.path(self._priced(instrument)).freeze(when, price)
        self._forget()

    def unfreeze(self, instrument: Instrument, when: datetime) -> None:
        self.path(self._priced(instrument)).unfreeze(when)
        self._forget()

    def _forget(self) -> None:
        """A pin changed a path: what was worked out for this moment no longer holds."""
        self._quotes.clear()
        self._days.clear()
        self._minutes.clear()

    def _priced(self, instrument: Instrument) -> Instrument:
        if instrument.sec_type == "OPT":
            under = self.catalog.underlying(instrument)
            if under is None:
                raise UsageError(f"option {instrument.key} has no underlying in the catalog")
            return under
        return instrument
