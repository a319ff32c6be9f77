"""Generated option chains: expiries, strikes and rights around an underlying's price.

Owns `OptionChainSpec` and `option_chain`, which turns a spec into option `Instrument`s the
way IB lists them: monthly expiries on the third Friday, strikes every `strike_step`
around the underlying's model price on the catalog's date, a call and a put each, SMART
routed, multiplier 100, tradingClass the root, OCC-style localSymbol
(``AAPL  240119C00190000``). ConIds are synthetic (IB's are not derivable): 8xx,xxx,xxx from
a CRC of (underlying conId, expiry, strike, right), stable across runs.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from ibguard.kit.sim.instruments import Instrument

__all__ = ["OptionChainSpec", "monthly_expiries", "option_chain", "option_con_id"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionChainSpec:
    underlying: str
    trading_class: str
    expiries: int = 4
    strike_step: Decimal = Decimal(5)
    strikes_each_side: int = 10
    volatility: Decimal = Decimal("0.25")  # the implied volatility the pricing model uses
    exchange: str = "SMART"
    multiplier: str = "100"


def monthly_expiries(after: date, count: int) -> list[date]:
    """The next `count` third Fridays strictly after `after`."""
    out: list[date] = []
    year, month = after.year, after.month
    while len(out) < count:
        first = date(year, month, 1)
        friday = first + timedelta(days=(4 - first.weekday()) % 7 + 14)
        if friday > after:
            out.append(friday)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def option_con_id(under_con_id: int, expiry: str, strike: Decimal, right: str) -> int:
    digest = zlib.crc32(f"{under_con_id}:{expiry}:{strike.normalize()}:{right}".encode())
    return 800_000_000 + digest % 100_000_000


@lru_cache(maxsize=64)  # every SimBroker of a test run lists the same chains
def option_chain(
    spec: OptionChainSpec, underlying: Instrument, as_of: date, spot: Decimal
) -> tuple[Instrument, ...]:
    """The chain of `spec` on `as_of`, strikes centred on the underlying's price `spot`."""
    center = (spot / spec.strike_step).to_integral_value() * spec.strike_step
    strikes = [
        center + spec.strike_step * k
        for k in range(-spec.strikes_each_side, spec.strikes_each_side + 1)
        if center + spec.strike_step * k > 0
    ]
    option_price = replace(underlying.price, start=Decimal(1), volatility=spec.volatility)
    out = []
    for expiry in monthly_expiries(as_of, spec.expiries):
        ymd = f"{expiry:%Y%m%d}"
        for strike in strikes:
            for right in ("C", "P"):
                occ = f"{spec.trading_class:<6}{expiry:%y%m%d}{right}{int(strike * 1000):08d}"
                out.append(
                    Instrument(
                        con_id=option_con_id(underlying.con_id, ymd, strike, right),
                        symbol=underlying.symbol,
                        sec_type="OPT",
                        exchange=spec.exchange,
                        currency=underlying.currency,
                        local_symbol=occ,
                        trading_class=spec.trading_class,
                        market_name=spec.trading_class,
                        last_trade_date=ymd,
                        strike=strike,
                        right=right,
                        multiplier=spec.multiplier,
                        long_name=underlying.long_name,
                        min_tick=Decimal("0.01"),
                        valid_exchanges="SMART,AMEX,CBOE,PHLX,ISE,BOX,NASDAQOM,CBOE2,MIAX",
                        contract_month=f"{expiry:%Y%m}",
                        under_con_id=underlying.con_id,
                        under_symbol=underlying.symbol,
                        under_sec_type=underlying.sec_type,
                        time_zone_id=underlying.time_zone_id,
                        trading=underlying.liquid,
                        liquid=underlying.liquid,
                        price=option_price,
                    )
                )
    return tuple(out)
