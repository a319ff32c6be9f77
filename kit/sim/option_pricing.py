"""Black-Scholes prices and greeks for the simulated option quotes (tickOptionComputation).

Pure functions of (spot, strike, years to expiry, volatility, rate, right). European
exercise, no dividends: the model IB's own option analytics start from, good enough for a
paper account. The float math is the model; callers put prices on the tick grid as Decimal.
At or after expiry the value is intrinsic and the greeks are those of the payoff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Greeks", "black_scholes"]


@dataclass(frozen=True, slots=True)
class Greeks:
    price: float
    delta: float
    gamma: float
    vega: float  # per 1.00 of volatility / 100 (IB reports per vol point)
    theta: float  # per calendar day


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def black_scholes(
    *, spot: float, strike: float, years: float, volatility: float, rate: float, right: str
) -> Greeks:
    call = right == "C"
    if years <= 0 or volatility <= 0 or spot <= 0 or strike <= 0:
        intrinsic = max(spot - strike, 0.0) if call else max(strike - spot, 0.0)
        itm = intrinsic > 0
        return Greeks(intrinsic, (1.0 if call else -1.0) if itm else 0.0, 0.0, 0.0, 0.0)
    root = volatility * math.sqrt(years)
    d1 = (math.log(spot / strike) + (rate + 0.5 * volatility**2) * years) / root
    d2 = d1 - root
    discount = math.exp(-rate * years)
    if call:
        price = spot * _cdf(d1) - strike * discount * _cdf(d2)
        delta = _cdf(d1)
        theta = -spot * _pdf(d1) * volatility / (2 * math.sqrt(years)) - (
            rate * strike * discount * _cdf(d2)
        )
    else:
        price = strike * discount * _cdf(-d2) - spot * _cdf(-d1)
        delta = _cdf(d1) - 1.0
        theta = -spot * _pdf(d1) * volatility / (2 * math.sqrt(years)) + (
            rate * strike * discount * _cdf(-d2)
        )
    gamma = _pdf(d1) / (spot * root)
    vega = spot * _pdf(d1) * math.sqrt(years) / 100.0
    return Greeks(max(price, 0.0), delta, gamma, vega, theta / 365.0)
