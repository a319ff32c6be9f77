"""Instrument files: the built-in `instruments.toml` and users' TOML or JSON extensions.

Owns reading and validating a file into instruments, futures series and option-chain specs,
and `build_catalog`, which assembles the built-in catalog plus extension files for a date.
Every problem in a file is reported at once as a `ConfigError` naming the file; unknown keys
are errors. A later file replaces an instrument with the same conId. Format (see the built-in
file for complete examples)::

    [[instrument]]          # symbol, sec_type (STK | CASH | IND), con_id, exchange, currency
                            # required; primary_exchange, local_symbol, trading_class,
                            # long_name, min_tick, time_zone_id, trading_hours, liquid_hours
                            # (["0930-1600 MO-FR"]), valid_exchanges, industry, category,
                            # subcategory, stock_type, isin, market_name optional;
                            # calendar = "NYSE" | "CME" | "" (holidays; default: by exchange)
    price = { start = "185.60", drift = "0.08", volatility = "0.24", spread_ticks = 1,
              volume = 1000000, seed = 7 }
    [[future]]              # symbol, exchange, currency, multiplier, contracts =
                            # [[conId, "YYYYMMDD"], ...] and the instrument keys above;
                            # initial_margin, maintenance_margin per contract optional
    [[option_chain]]        # underlying, trading_class, expiries, strike_step,
                            # strikes_each_side, volatility
"""

from __future__ import annotations

import importlib
import json
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from ibguard.errors import ConfigError, UsageError
from ibguard.kit.sim.instruments import Catalog, Instrument
from ibguard.kit.sim.instruments_hours import calendar_for, parse_sessions
from ibguard.kit.sim.instruments_options import OptionChainSpec, monthly_expiries, option_chain
from ibguard.kit.sim.prices import DEFAULT_ANCHOR, PriceParams, PricePath

__all__ = ["BUILTIN_FILE", "InstrumentFile", "build_catalog", "load_file", "parse_file"]

_toml: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")

BUILTIN_FILE: Final = Path(__file__).with_name("instruments.toml")
_MONTH_CODES: Final = "FGHJKMNQUVXZ"
_COMMON: Final = {
    "symbol", "sec_type", "con_id", "exchange", "currency", "primary_exchange", "local_symbol",
    "trading_class", "long_name", "min_tick", "time_zone_id", "trading_hours", "liquid_hours",
    "valid_exchanges", "industry", "category", "subcategory", "stock_type", "isin",
    "market_name", "price", "order_types", "calendar",
}  # fmt: skip
_FUTURE: Final = (_COMMON - {"con_id", "sec_type", "local_symbol"}) | {
    "multiplier", "contracts", "under_con_id", "initial_margin", "maintenance_margin",
}  # fmt: skip
_CHAIN: Final = {
    "underlying", "trading_class", "expiries", "strike_step", "strikes_each_side", "volatility",
}  # fmt: skip
_PRICE: Final = {"start", "drift", "volatility", "spread_ticks", "volume", "seed"}
_STOCK_HOURS: Final = (["0400-2000 MO-FR"], ["0930-1600 MO-FR"])


@dataclass(frozen=True, slots=True)
class InstrumentFile:
    instruments: tuple[Instrument, ...]
    chains: tuple[OptionChainSpec, ...]


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def table(self, where: str, raw: object, allowed: set[str]) -> Mapping[str, Any]:
        if not isinstance(raw, dict):
            self.items.append(f"{where}: expected a table")
            return {}
        for key in sorted(set(raw) - allowed):
            self.items.append(f"{where}: unknown key {key!r}")
        return raw

    def run(self, where: str, build: Any) -> Any:
        try:
            return build()
        except (UsageError, InvalidOperation, ValueError, TypeError, KeyError) as exc:
            detail = str(exc) if isinstance(exc, (UsageError, KeyError)) else repr(exc)
            self.items.append(f"{where}: {detail.strip(chr(39))}")
            return None


def _text(t: Mapping[str, Any], key: str, default: str = "") -> str:
    value = t.get(key, default)
    if not isinstance(value, str):
        raise UsageError(f"{key} must be a string, got {value!r}")
    return value


def _number(t: Mapping[str, Any], key: str, default: str | None = None) -> Decimal:
    raw = t.get(key, default)
    if raw is None:
        raise UsageError(f"{key} is required")
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise UsageError(f"{key} must be a number, got {raw!r}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise UsageError(f"{key} is not a number: {raw!r}") from None
    if not value.is_finite():
        raise UsageError(f"{key} must be finite, got {raw!r}")
    return value


def _int(t: Mapping[str, Any], key: str, default: int | None = None) -> int:
    raw = t.get(key, default)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise UsageError(f"{key} must be an integer, got {raw!r}")
    return raw


def _price(raw: object, p: _Problems, where: str) -> PriceParams:
    t = p.table(f"{where} price", raw, _PRICE)
    seed = t.get("seed")
    return PriceParams(
        start=_number(t, "start"),
        drift=_number(t, "drift", "0.05"),
        volatility=_number(t, "volatility", "0.25"),
        spread_ticks=_int(t, "spread_ticks", 1),
        volume=_int(t, "volume", 1_000_000),
        seed=None if seed is None else _int(t, "seed"),
        tick=Decimal(1),  # replaced by the instrument's minTick
    )


def _instrument(t: Mapping[str, Any], p: _Problems, where: str, **fixed: Any) -> Instrument:
    sec_type = fixed.get("sec_type") or _text(t, "sec_type")
    if sec_type not in {"STK", "CASH", "IND", "FUT"}:
        raise UsageError(f"sec_type must be STK, CASH, IND or FUT, got {sec_type!r}")
    symbol = _text(t, "symbol")
    if not symbol.strip():
        raise UsageError("symbol must not be blank")
    con_id = fixed.get("con_id") or _int(t, "con_id")
    if not 0 < con_id < 2**31 - 1:
        raise UsageError(f"con_id must be within 1..2147483646, got {con_id}")
    zone = _text(t, "time_zone_id", "US/Eastern")
    default_trading, default_liquid = _STOCK_HOURS if sec_type == "STK" else (None, None)
    trading_specs = t.get("trading_hours", default_trading)
    # liquid hours default to the trading hours given, else to the stock's regular session
    liquid_specs = t.get("liquid_hours", trading_specs if "trading_hours" in t else default_liquid)
    if not isinstance(trading_specs, list) or not isinstance(liquid_specs, list):
        raise UsageError('trading_hours and liquid_hours are lists like ["0930-1600 MO-FR"]')
    min_tick = _number(t, "min_tick", "0.01")
    if min_tick <= 0:
        raise UsageError(f"min_tick must be > 0, got {min_tick}")
    params = _price(t.get("price", {}), p, where)
    primary = _text(t, "primary_exchange")
    exchange = _text(t, "exchange")
    calendar = _text(t, "calendar", calendar_for(sec_type, exchange, primary))
    trading_class = _text(t, "trading_class", symbol)
    local_symbol = fixed.get("local_symbol") or _text(t, "local_symbol", symbol)
    routed = ["SMART", primary] if exchange == "SMART" and primary else [exchange]
    return Instrument(
        con_id=con_id,
        symbol=symbol,
        sec_type=sec_type,
        exchange=exchange,
        currency=_text(t, "currency"),
        primary_exchange=primary,
        local_symbol=local_symbol,
        trading_class=trading_class,
        last_trade_date=fixed.get("last_trade_date", ""),
        multiplier=fixed.get("multiplier", ""),
        long_name=_text(t, "long_name"),
        market_name=_text(t, "market_name", trading_class),
        min_tick=min_tick,
        valid_exchanges=_text(t, "valid_exchanges", ",".join(routed)),
        industry=_text(t, "industry"),
        category=_text(t, "category"),
        subcategory=_text(t, "subcategory"),
        stock_type=_text(t, "stock_type"),
        contract_month=fixed.get("last_trade_date", "")[:6],
        under_con_id=fixed.get("under_con_id", 0),
        initial_margin=fixed.get("initial_margin"),
        maintenance_margin=fixed.get("maintenance_margin"),
        under_symbol=symbol if sec_type == "FUT" else "",
        under_sec_type="IND" if sec_type == "FUT" else "",
        isin=_text(t, "isin"),
        time_zone_id=zone,
        trading=parse_sessions(zone, trading_specs).with_calendar(calendar),
        liquid=parse_sessions(zone, liquid_specs).with_calendar(calendar),
        price=PriceParams(
            start=params.start,
            drift=params.drift,
            volatility=params.volatility,
            spread_ticks=params.spread_ticks,
            volume=params.volume,
            seed=params.seed,
            tick=min_tick,
        ),
    )


def _futures(t: Mapping[str, Any], p: _Problems, where: str) -> list[Instrument]:
    contracts = t.get("contracts")
    if not isinstance(contracts, list) or not contracts:
        raise UsageError('contracts must be a list of [conId, "YYYYMMDD"] pairs')
    multiplier = str(_number(t, "multiplier"))
    under = _int(t, "under_con_id", 0)
    margins = {
        key: _number(t, key) if key in t else None
        for key in ("initial_margin", "maintenance_margin")
    }
    if any(m is not None and m < 0 for m in margins.values()):
        raise UsageError("initial_margin and maintenance_margin must be >= 0")
    out = []
    for pair in contracts:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int)):
            raise UsageError(f'a contract is [conId, "YYYYMMDD"], got {pair!r}')
        expiry = datetime.strptime(str(pair[1]), "%Y%m%d").date()  # noqa: DTZ007 - a date
        local = f"{t.get('symbol', '')}{_MONTH_CODES[expiry.month - 1]}{expiry.year % 10}"
        out.append(
            _instrument(
                t,
                p,
                where,
                sec_type="FUT",
                con_id=pair[0],
                local_symbol=local,
                last_trade_date=f"{expiry:%Y%m%d}",
                multiplier=multiplier,
                under_con_id=under,
                **margins,
            )
        )
    return out


def _chain(t: Mapping[str, Any]) -> OptionChainSpec:
    return OptionChainSpec(
        underlying=_text(t, "underlying"),
        trading_class=_text(t, "trading_class", _text(t, "underlying")),
        expiries=_int(t, "expiries", 4),
        strike_step=_number(t, "strike_step", "5"),
        strikes_each_side=_int(t, "strikes_each_side", 10),
        volatility=_number(t, "volatility", "0.25"),
    )


def parse_file(doc: object, *, source: str) -> InstrumentFile:
    """A decoded TOML/JSON document as instruments; ConfigError lists every problem."""
    p = _Problems()
    top = p.table("top level", doc, {"instrument", "future", "option_chain"})
    instruments: list[Instrument] = []
    chains: list[OptionChainSpec] = []
    for kind in ("instrument", "future", "option_chain"):
        items = top.get(kind, [])
        if not isinstance(items, list):
            p.items.append(f"[[{kind}]]: expected an array of tables")
            continue
        for n, raw in enumerate(items, 1):
            where = f"[[{kind}]] #{n}"
            allowed = {"instrument": _COMMON, "future": _FUTURE, "option_chain": _CHAIN}[kind]
            t = p.table(where, raw, allowed)
            if not t:
                continue
            if kind == "instrument":
                built = p.run(where, lambda t=t, w=where: _instrument(t, p, w))
                instruments += [built] if built is not None else []
            elif kind == "future":
                instruments += p.run(where, lambda t=t, w=where: _futures(t, p, w)) or []
            else:
                spec = p.run(where, lambda t=t: _chain(t))
                chains += [spec] if spec is not None else []
    if p.items:
        raise ConfigError(p.items, source)
    return InstrumentFile(tuple(instruments), tuple(chains))


def load_file(path: Path) -> InstrumentFile:
    """Read a .toml or .json instrument file (parsed once while it is unchanged)."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigError([f"cannot read: {exc.strerror or exc}"], str(path)) from None
    return _load(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _load(path: Path, mtime_ns: int, size: int) -> InstrumentFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot read: {getattr(exc, 'strerror', None) or exc}"
        raise ConfigError([problem], str(path)) from None
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else _toml.loads(text)
    except (ValueError, _toml.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ConfigError([f"not valid {kind}: {exc}"], str(path)) from None
    return parse_file(doc, source=str(path))


def _later_quarters(catalog: Catalog, as_of: date) -> list[Instrument]:
    """Quarterly futures after the last listed one, up to a year past `as_of`, so a catalog
    dated later than its file still has a front month. Their conIds are synthetic (7xx,xxx,xxx
    from a CRC of symbol and expiry): IB's are not derivable."""
    last: dict[str, Instrument] = {}
    for i in catalog:
        if i.sec_type != "FUT":
            continue
        known = last.get(i.symbol)
        if known is None or i.last_trade_date > known.last_trade_date:
            last[i.symbol] = i
    out = []
    horizon = as_of + timedelta(days=366)
    for template in last.values():
        expiry = datetime.strptime(template.last_trade_date, "%Y%m%d").date()  # noqa: DTZ007
        while True:
            expiry = next(e for e in monthly_expiries(expiry, 3) if e.month % 3 == 0)
            if expiry > horizon:
                break
            ymd = f"{expiry:%Y%m%d}"
            code = f"{template.symbol}{_MONTH_CODES[expiry.month - 1]}{expiry.year % 10}"
            con_id = 700_000_000 + zlib.crc32(f"{template.symbol}:{ymd}".encode()) % 100_000_000
            out.append(
                replace(
                    template,
                    con_id=con_id,
                    local_symbol=code,
                    last_trade_date=ymd,
                    contract_month=ymd[:6],
                )
            )
    return out


def build_catalog(
    as_of: date, *, files: tuple[Path, ...] = (), anchor: datetime = DEFAULT_ANCHOR
) -> Catalog:
    """The built-in instruments plus `files` (later ones win), with the option chains
    generated for `as_of` around each underlying's model price (anchored at `anchor`)."""
    catalog = Catalog(as_of=as_of)
    chains: list[OptionChainSpec] = []
    for source in (BUILTIN_FILE, *files):
        loaded = load_file(source)
        catalog.extend(loaded.instruments)
        chains += loaded.chains
    catalog.extend(_later_quarters(catalog, as_of))
    for spec in chains:
        underlying = [i for i in catalog.by_symbol(spec.underlying) if i.sec_type == "STK"]
        if not underlying:
            raise ConfigError([f"option chain: no stock {spec.underlying!r} to list it on"])
        under = underlying[0]
        path = PricePath(under.price, key=under.key, anchor=anchor)
        spot = path.price(datetime.combine(as_of, time(16), under.trading.zone))
        catalog.extend(option_chain(spec, under, as_of, spot))
    return catalog
