"""The simulated market of one instrument: a deterministic price path, quotes and bars.

Owns `PriceParams` (start price, drift, volatility, tick, spread, seed) and `PricePath`, a
pure function of time: the same params give the same price at the same instant in every run,
on every host, whatever was asked before, so quotes, bars and fills agree and tests can
predict them. The path is a log-price built from sinusoids with seeded phases, two per octave
of period from 1 second to 2^29 seconds (~17 years), amplitudes scaled with the square root of
the period so increments over a horizon h have a standard deviation close to
volatility * sqrt(h) (a Brownian-like path without state). Drift is applied exactly
(exp(drift * years)). The float path is the model's noise source only: every price that
leaves this module is a Decimal on the instrument's tick grid.

Invariants: every price is a multiple of the tick and at least one tick; bid < ask (the
spread is at least one tick); a bar has low <= open, close <= high; a quote outside the
trading sessions is the quote at the last session close (the market is frozen), and the
next open may gap. `Pins` change the path from a moment on: a gap to a given price (the walk
continues from there) or a frozen market (a flat price until unfrozen).
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Final

from ibguard.errors import UsageError

__all__ = ["DEFAULT_ANCHOR", "Bar", "PriceParams", "PricePath", "Quote", "on_tick"]

_EPOCH: Final = datetime(2020, 1, 1, tzinfo=timezone.utc)  # the phase origin of every path
DEFAULT_ANCHOR: Final = datetime(2024, 1, 2, 14, 30, tzinfo=timezone.utc)  # the sim's default start
_YEAR_SECONDS: Final = 365.25 * 86400
_OCTAVES: Final = 30  # periods 2^0 .. 2^29 seconds
_MASK: Final = (1 << 64) - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceParams:
    """How one instrument's price moves. `start` is the price at the path's anchor (by
    default the sim's default start, 2024-01-02 14:30 UTC); drift and volatility are annual
    (0.08 = 8 %); `spread_ticks` is the quoted width; `volume` the shares traded per
    trading day (for bars and the volume tick)."""

    start: Decimal
    tick: Decimal = Decimal("0.01")
    drift: Decimal = Decimal("0.05")
    volatility: Decimal = Decimal("0.25")
    spread_ticks: int = 1
    volume: int = 10_000_000
    seed: int | None = None  # None: derived from the key the path is built with

    def __post_init__(self) -> None:
        if not self.start.is_finite() or self.start <= 0:
            raise UsageError(f"a start price must be > 0, got {self.start}")
        if not self.tick.is_finite() or self.tick <= 0:
            raise UsageError(f"a tick size must be > 0, got {self.tick}")
        if not self.volatility.is_finite() or not 0 <= self.volatility <= 5:
            raise UsageError(f"volatility must be within 0..5, got {self.volatility}")
        if not self.drift.is_finite() or abs(self.drift) > 5:
            raise UsageError(f"drift must be within -5..5, got {self.drift}")
        if self.spread_ticks < 1:
            raise UsageError(f"the spread must be at least one tick, got {self.spread_ticks}")
        if self.volume < 0:
            raise UsageError(f"volume must be >= 0, got {self.volume}")


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book at one instant: bid < ask, last traded at one of them, sizes in lots."""

    time: datetime
    bid: Decimal
    ask: Decimal
    last: Decimal
    bid_size: Decimal
    ask_size: Decimal
    last_size: Decimal

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class Bar:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    wap: Decimal
    count: int


def on_tick(price: Decimal, tick: Decimal) -> Decimal:
    """`price` rounded to the nearest multiple of `tick` (at least one tick)."""
    steps = int((price / tick).to_integral_value(ROUND_HALF_EVEN))
    return Decimal(max(steps, 1)) * tick  # an integer times the tick: the tick's exponent


@dataclass
class _Pin:
    at: float  # seconds since the epoch
    price: float | None  # the gap target; None: unfreeze
    frozen: bool


@dataclass
class PricePath:
    """The path of one instrument. `key` (its symbol or conId) seeds it unless the params
    carry a seed. `is_open(when)` / `last_close(when)` come from its trading sessions; without
    them the market never closes."""

    params: PriceParams
    key: str = ""
    anchor: datetime = DEFAULT_ANCHOR  # where the path is at `params.start`
    is_open: Callable[[datetime], bool] | None = None
    last_close: Callable[[datetime], datetime | None] | None = None
    _terms: list[tuple[float, float, float]] = field(init=False, repr=False)
    _pins: list[_Pin] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        seed = self.params.seed
        if seed is None:
            seed = zlib.crc32(self.key.encode())
        per_second = float(self.params.volatility) / math.sqrt(_YEAR_SECONDS)
        terms = []
        for octave in range(_OCTAVES):
            u1 = _unit(seed, octave, 0, 1)
            u2 = _unit(seed, octave, 0, 2)
            period = 2.0 ** (octave + u1)  # one term per octave, at a seeded place in it
            # a sinusoid of amplitude a moves by about a*sqrt(2)*|sin| over a horizon;
            # sqrt(period)/(2*pi) per octave keeps the summed variance near sigma^2 * h
            amplitude = per_second * math.sqrt(period) / (2 * math.pi) * 1.7
            terms.append((2 * math.pi / period, 2 * math.pi * u2, amplitude))
        self._terms = terms
        self._anchor = _seconds(self.anchor)
        self._offset = 0.0
        self._offset = -self._noise(self._anchor)  # the path passes `start` at the anchor

    # --- pins -------------------------------------------------------------------------

    def gap_to(self, when: datetime, price: Decimal) -> None:
        """From `when` on the price is `price` (a gap); the walk continues from it."""
        if not price.is_finite() or price <= 0:
            raise UsageError(f"a pinned price must be > 0, got {price}")
        self._pin(_Pin(_seconds(when), float(price), frozen=False))

    def freeze(self, when: datetime, price: Decimal | None = None) -> None:
        """From `when` on the market does not move (at `price`, default where it is)."""
        target = float(price) if price is not None else None
        self._pin(_Pin(_seconds(when), target, frozen=True))

    def unfreeze(self, when: datetime) -> None:
        """The walk resumes at `when` from the frozen price."""
        self._pin(_Pin(_seconds(when), None, frozen=False))

    def _pin(self, pin: _Pin) -> None:
        if pin.price is None:
            pin.price = self._raw(pin.at)  # freeze where it is / resume from the frozen level
        self._pins.append(pin)
        self._pins.sort(key=lambda p: p.at)

    # --- the path ---------------------------------------------------------------------

    def _noise(self, s: float) -> float:
        total = self._offset
        sin = math.sin  # the hot loop of the model: a plain loop over locals is fastest
        for w, p, a in self._terms:
            total += a * sin(w * s + p)
        return total

    def _free(self, s: float) -> float:
        """The unpinned price at `s` seconds after the epoch."""
        drift = float(self.params.drift) * (s - self._anchor) / _YEAR_SECONDS
        return float(self.params.start) * math.exp(drift + self._noise(s))

    def _raw(self, s: float) -> float:
        """The price at `s`, pins applied: after a pin the path moves by the same ratio as
        the free path since the pin's moment, or stays flat while frozen."""
        i = bisect_right([p.at for p in self._pins], s)
        if i == 0:
            return self._free(s)
        pin = self._pins[i - 1]
        assert pin.price is not None  # set when pinned
        if pin.frozen:
            return pin.price
        return pin.price * self._free(s) / self._free(pin.at)

    def price(self, when: datetime) -> Decimal:
        """The mid price at `when` on the tick grid (frozen outside trading sessions)."""
        return on_tick(Decimal(repr(self._raw(self._market_seconds(when)))), self.params.tick)

    def _market_seconds(self, when: datetime) -> float:
        """The moment whose price holds at `when`: `when` itself while the market trades;
        while it is closed the last close, or a later pin (a script moves a closed market)."""
        now = _seconds(when)
        if self.is_open is not None and not self.is_open(when):
            close = self.last_close(when) if self.last_close is not None else None
            if close is not None:
                frozen = _seconds(close - timedelta(microseconds=1))
                pinned = [p.at for p in self._pins if frozen < p.at <= now]
                return max(pinned) if pinned else frozen
        return now

    def quote(self, when: datetime) -> Quote:
        """Bid, ask and last at `when`: the spread straddles the mid on the tick grid."""
        p = self.params
        s = self._market_seconds(when)
        mid = Decimal(repr(self._raw(s)))
        half = p.tick * p.spread_ticks / 2
        bid = Decimal(max(int(((mid - half) / p.tick).to_integral_value(ROUND_FLOOR)), 1)) * p.tick
        ask = bid + p.tick * p.spread_ticks
        step = int(s)
        last = ask if _unit(step, 7, 0, 3) < 0.5 else bid
        lots = [Decimal(100 * (1 + int(_unit(step, 7, k, 4) * 9))) for k in range(3)]
        return Quote(when, bid, ask, last, lots[0], lots[1], lots[2])

    def bar(
        self, start: datetime, end: datetime, samples: int = 32, *, check_open: bool = True
    ) -> Bar | None:
        """OHLC of the mid over [start, end) sampled at `samples` points inside the trading
        sessions; None when the market is closed for the whole span. `check_open=False`:
        the caller already clipped the span to a session."""
        if end <= start:
            raise UsageError(f"a bar must end after it starts ({start} .. {end})")
        span = (end - start).total_seconds()
        moments = [start + timedelta(seconds=span * i / samples) for i in range(samples)]
        moments.append(end - timedelta(microseconds=1))
        if check_open and self.is_open is not None:
            moments = [m for m in moments if self.is_open(m)]
        if not moments:
            return None
        tick = self.params.tick
        raw = [self._raw(_seconds(m)) for m in moments]  # floats: only four become prices
        o, h, lo, c = (
            on_tick(Decimal(repr(x)), tick) for x in (raw[0], max(raw), min(raw), raw[-1])
        )
        open_seconds = len(moments) / (samples + 1) * span
        volume = self._volume(start, open_seconds)
        mean = on_tick(Decimal(repr(sum(raw) / len(raw))), tick / 100)
        wap = min(max(mean, lo), h)  # rounding never puts it outside the bar
        count = max(1, int(volume) // 100)
        return Bar(start, o, h, lo, c, volume, wap, count)

    def volume_between(self, start: datetime, end: datetime) -> Decimal:
        """Shares traded from `start` to `end` of one session (the day's volume tick)."""
        return self._volume(start, max((end - start).total_seconds(), 0.0))

    def _volume(self, start: datetime, open_seconds: float) -> Decimal:
        """Shares traded in `open_seconds` of trading (a day's volume over 6.5 hours)."""
        rate = self.params.volume / 23400.0
        jitter = 0.5 + _unit(int(_seconds(start)), 11, 0, 5)
        return Decimal(int(rate * open_seconds * jitter) // 100 * 100)


def _seconds(when: datetime) -> float:
    if when.tzinfo is None:
        raise UsageError(f"market times must be timezone-aware, got {when}")
    return (when - _EPOCH).total_seconds()


def _unit(seed: int, a: int, b: int, c: int) -> float:
    """A uniform number in [0, 1) from four integers (splitmix64 over their mix: a
    counter-based generator, so any draw is computed without the ones before it)."""
    x = (seed * 0x9E3779B97F4A7C15 + a * 0xBF58476D1CE4E5B9 + b * 0x94D049BB133111EB + c) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    x ^= x >> 31
    return (x >> 11) / 2.0**53
