"""The simulated market: one price path per instrument of a catalog, and what it quotes.

Owns the paths (built on first use, kept for their pins), the single source of prices for
quotes, bars, option analytics and fills. Stocks, FX and futures quote their own path, frozen
outside their trading sessions; an option quotes its Black-Scholes value on the underlying's
mid (the implied volatility is the chain's, the rate `RATE`), with a spread of 2 % of the
value (at least one tick). Pins (`gap_to`, `freeze`, `unfreeze`) change an instrument's path
from a moment on; an option follows its underlying's pins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import ROUND_FLOOR, Decimal
from typing import Final

from ibguard.errors import UsageError
from ibguard.kit.sim.instruments import Catalog, Instrument
from ibguard.kit.sim.option_pricing import Greeks, black_scholes
from ibguard.kit.sim.prices import DEFAULT_ANCHOR, Bar, PricePath, Quote, on_tick

__all__ = ["RATE", "Market", "OptionAnalytics"]

RATE: Final = 0.05  # the risk-free rate of the option model
_YEAR: Final = 365.0 * 86400


@dataclass(frozen=True, slots=True)
class OptionAnalytics:
    """What tickOptionComputation carries for one option at one moment."""

    implied_vol: float
    greeks: Greeks
    underlying_price: Decimal


class Market:
    def __init__(self, catalog: Catalog, *, anchor: datetime = DEFAULT_ANCHOR) -> None:
        self.catalog = catalog
        self.anchor = anchor
        self._paths: dict[int, PricePath] = {}

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
        self, instrument: Instrument, start: datetime, end: datetime, *, rth: bool
    ) -> Bar | None:
        """One bar of the instrument's mid over [start, end); with `rth`, only the liquid
        hours count (None when nothing of the span trades)."""
        path = self.path(instrument)
        if not rth:
            return path.bar(start, end)
        liquid = instrument.liquid
        sessions = list(liquid.between(start, end))
        if not sessions:
            return None
        lo = max(start, sessions[0].start)
        hi = min(end, sessions[-1].end)
        return path.bar(lo, hi) if hi > lo else None

    def gap_to(self, instrument: Instrument, when: datetime, price: Decimal) -> None:
        self.path(self._priced(instrument)).gap_to(when, price)

    def freeze(self, instrument: Instrument, when: datetime, price: Decimal | None = None) -> None:
        self.path(self._priced(instrument)).freeze(when, price)

    def unfreeze(self, instrument: Instrument, when: datetime) -> None:
        self.path(self._priced(instrument)).unfreeze(when)

    def _priced(self, instrument: Instrument) -> Instrument:
        if instrument.sec_type == "OPT":
            under = self.catalog.underlying(instrument)
            if under is None:
                raise UsageError(f"option {instrument.key} has no underlying in the catalog")
            return under
        return instrument
