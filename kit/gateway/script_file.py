"""The gateway script: a small TOML file of prices, halts and faults for `ibguard gateway`.

Owns parsing and validating the file into a frozen `GatewayScript`, and applying it to a
SimBroker and the gateway's `WireFaults`. Every problem in a file is reported at once
(`ConfigError`); unknown keys are errors, never ignored. Format (every table optional)::

    [account]
    accounts = ["DU1234567"]        # managed accounts; the first is the default
    rate_limit_per_second = 50      # error 100 beyond this (per clientId, per second)
    skew_seconds = 0                # broker clock minus real time (negative: behind; |x| <= 1 year)
    default_price = "100.00"        # price of a symbol never given one
    commission_per_share = "0.005"

    [prices]                        # symbol = price (strings keep decimals exact)
    AAPL = "187.25"

    [what_if]                       # a scripted what-if answer instead of the computed one
    margin_ok = false               # (docs/margins.md); equity_with_loan = "1000000",
                                    # init_margin_after = "250000", warning = "..."

    [[halt]]
    symbol = "TSLA"
    mode = "reject"                 # or "no_fill": accepted, never filled

    [[broker_fault]]                # armed SimBroker rules, consumed in file order
    kind = "reject"                 # code = 201, text = "...", symbol = "AAPL", times = 1
    # kind = "fill": fills = [["30", "100.10"], ["20", "100.20"]], duplicate_last = false,
    #                exec_before_status = false, symbol, times
    # kind = "drop": received = true, client_id, times      (drop after the next placeOrder)
    # kind = "refuse_cancel": price, symbol, times
    # kind = "late_fill_on_cancel": shares, price, seconds_before = 1, symbol, times
    # kind = "pacing_violation": symbol, times    (reqHistoricalData answered with error 162)

    [[wire_fault]]                  # armed wire faults (see `WireFaults`)
    kind = "drop_after"             # messages = 3, client_id, message_id
    # kind = "delay": seconds = 0.5, messages = 1, client_id, message_id
    # kind = "duplicate": messages = 1, client_id, message_id
    # kind = "reorder": client_id, message_id
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, final

from ibguard.errors import ConfigError, UsageError
from ibguard.kit.gateway.wire_faults import WireFaults
from ibguard.kit.sim.broker import SimBroker, WhatIfAnswer
from ibguard.kit.sim.contracts import HaltMode
from ibguard.kit.sim.script import (
    DropConnection,
    FillPlan,
    LateFillOnCancel,
    PacingViolation,
    RefuseCancel,
    RejectOrder,
    Rule,
)

__all__ = ["GatewayScript", "load_script", "parse_script"]

# tomllib from 3.11 on, its backport tomli before.
_toml: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")

_ACCOUNT_KEYS: Final = {
    "accounts",
    "rate_limit_per_second",
    "skew_seconds",
    "default_price",
    "commission_per_share",
}
_TOP_KEYS: Final = {"account", "prices", "what_if", "halt", "broker_fault", "wire_fault"}
_WHAT_IF_KEYS: Final = {"margin_ok", "equity_with_loan", "init_margin_after", "warning"}
MAX_SKEW_SECONDS: Final = 366 * 86400  # the broker clock starts at now + skew: keep it a date
MAX_NUMBER: Final = Decimal("1e12")  # prices, quantities: far beyond any real one, still exact


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayScript:
    accounts: tuple[str, ...] = ("DU1234567",)
    rate_limit_per_second: int = 50
    skew_seconds: float = 0.0
    default_price: Decimal = Decimal("100.00")
    commission_per_share: Decimal = Decimal("0.005")
    prices: tuple[tuple[str, Decimal], ...] = ()
    halts: tuple[tuple[str, HaltMode], ...] = ()
    what_if: WhatIfAnswer | None = None  # None: answers computed from the account
    broker_faults: tuple[Rule, ...] = ()
    wire_faults: tuple[Callable[[WireFaults], None], ...] = field(default=(), compare=False)

    def apply(self, broker: SimBroker, faults: WireFaults) -> None:
        """Set prices and halts, arm the broker rules and the wire faults."""
        for symbol, price in self.prices:
            broker.set_price(symbol, price)
        for symbol, mode in self.halts:
            broker.halt(symbol, mode)
        if self.what_if is not None:
            broker.set_what_if(self.what_if)
        for rule in self.broker_faults:
            broker.script.arm(rule)
        for arm in self.wire_faults:
            arm(faults)


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.items.append(f"{where}: {problem}")

    def decimal(
        self, where: str, raw: object, *, limit: Decimal = MAX_NUMBER, positive: bool = False
    ) -> Decimal | None:
        """A finite number with |value| <= limit (and > 0 when `positive`), exactly."""
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            self.add(where, f"expected a number, got {raw!r}")
            return None
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            self.add(where, f"not a number: {raw!r}")
            return None
        if not value.is_finite():
            self.add(where, f"must be finite, got {raw!r}")
            return None
        if abs(value) > limit:
            self.add(where, f"must be within +-{limit}, got {raw!r}")
            return None
        if positive and value <= 0:
            self.add(where, f"must be greater than 0, got {raw!r}")
            return None
        return value

    def integer(self, where: str, raw: object, *, minimum: int = 0) -> int | None:
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
            self.add(where, f"expected an integer >= {minimum}, got {raw!r}")
            return None
        return raw

    def table(self, where: str, raw: object, allowed: set[str]) -> Mapping[str, Any]:
        if not isinstance(raw, dict):
            self.add(where, "expected a table")
            return {}
        for key in sorted(set(raw) - allowed):
            self.add(where, f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
        return raw


def load_script(path: Path) -> GatewayScript:
    """Read and validate a script file; `ConfigError` names the file and every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"cannot read: {exc.strerror or exc}"], str(path)) from None
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.start} is {exc.object[exc.start : exc.start + 1]!r})"
        raise ConfigError([problem], str(path)) from None
    return parse_script(text, source=str(path))


def parse_script(text: str, *, source: str = "<script>") -> GatewayScript:
    try:
        doc = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"], source) from None
    errors = _Errors()
    errors.table("top level", doc, _TOP_KEYS)
    values: dict[str, Any] = {}
    account = errors.table("[account]", doc.get("account", {}), _ACCOUNT_KEYS)
    _account(account, values, errors)
    raw_prices = doc.get("prices", {})
    prices = errors.table(
        "[prices]", raw_prices, set(raw_prices) if isinstance(raw_prices, dict) else set()
    )
    values["prices"] = tuple(
        (symbol, price)
        for symbol, raw in prices.items()
        if (price := _price(symbol, raw, errors)) is not None
    )
    values["halts"] = tuple(_halts(doc.get("halt", []), errors))
    if "what_if" in doc:
        values["what_if"] = _what_if(doc["what_if"], errors)
    values["broker_faults"] = tuple(_broker_faults(doc.get("broker_fault", []), errors))
    values["wire_faults"] = tuple(_wire_faults(doc.get("wire_fault", []), errors))
    if errors.items:
        raise ConfigError(errors.items, source)
    return GatewayScript(**values)


def _price(symbol: str, raw: object, errors: _Errors) -> Decimal | None:
    if not symbol.strip():
        errors.add("[prices]", f"a symbol must not be blank, got {symbol!r}")
        return None
    return errors.decimal(f"[prices] {symbol}", raw, positive=True)


def _account(table: Mapping[str, Any], values: dict[str, Any], errors: _Errors) -> None:
    if "accounts" in table:
        accounts = table["accounts"]
        if (
            not isinstance(accounts, list)
            or not accounts
            or not all(isinstance(a, str) and a and "," not in a for a in accounts)
        ):
            errors.add("[account] accounts", "expected a non-empty list of account names")
        else:
            values["accounts"] = tuple(accounts)
    if "rate_limit_per_second" in table:
        limit = errors.integer(
            "[account] rate_limit_per_second", table["rate_limit_per_second"], minimum=1
        )
        if limit is not None:
            values["rate_limit_per_second"] = limit
    if "skew_seconds" in table:
        skew = errors.decimal(
            "[account] skew_seconds", table["skew_seconds"], limit=Decimal(MAX_SKEW_SECONDS)
        )
        if skew is not None:
            values["skew_seconds"] = float(skew)
    if "default_price" in table:
        price = errors.decimal("[account] default_price", table["default_price"], positive=True)
        if price is not None:
            values["default_price"] = price
    if "commission_per_share" in table:
        commission = errors.decimal("[account] commission_per_share", table["commission_per_share"])
        if commission is not None and commission < 0:
            errors.add("[account] commission_per_share", f"must be >= 0, got {commission}")
        elif commission is not None:
            values["commission_per_share"] = commission


def _what_if(raw: object, errors: _Errors) -> WhatIfAnswer | None:
    table = errors.table("[what_if]", raw, _WHAT_IF_KEYS)
    fields: dict[str, Any] = {}
    checks: dict[str, _Check] = {
        "margin_ok": _flag,
        "equity_with_loan": _amount,
        "init_margin_after": _amount,
        "warning": _text,
    }
    for key, raw_value in table.items():
        check = checks.get(key)
        value = check(errors, f"[what_if] {key}", raw_value) if check is not None else _BAD
        if value is not _BAD:
            fields[key] = value
    return WhatIfAnswer(**fields) if len(fields) == len(table) else None


def _items(raw: object, name: str, errors: _Errors) -> list[tuple[str, Mapping[str, Any]]]:
    if not isinstance(raw, list):
        errors.add(f"[[{name}]]", "expected an array of tables")
        return []
    return [(f"[[{name}]] #{i + 1}", item) for i, item in enumerate(raw)]


def _halts(raw: object, errors: _Errors) -> list[tuple[str, HaltMode]]:
    out = []
    for where, item in _items(raw, "halt", errors):
        table = errors.table(where, item, {"symbol", "mode"})
        symbol = table.get("symbol")
        if not isinstance(symbol, str) or not symbol:
            errors.add(where, "needs a symbol")
            continue
        try:
            mode = HaltMode(table.get("mode", "reject"))
        except ValueError:
            errors.add(where, f"mode must be 'reject' or 'no_fill', got {table.get('mode')!r}")
            continue
        out.append((symbol, mode))
    return out


# One checker per fault field: it reports a bad value (and returns _BAD) or returns the value
# the rule takes. A value of the wrong type would otherwise be armed and silently never match
# (symbol = 3) or reach the wire as garbage (code = "abc").
_BAD: Final = object()
_Check = Callable[[_Errors, str, object], object]


def _text(errors: _Errors, where: str, raw: object) -> object:
    if not isinstance(raw, str):
        errors.add(where, f"expected a string, got {raw!r}")
        return _BAD
    return raw


def _symbol(errors: _Errors, where: str, raw: object) -> object:
    if not isinstance(raw, str) or not raw.strip():
        errors.add(where, f"expected a symbol (a non-blank string), got {raw!r}")
        return _BAD
    return raw


def _flag(errors: _Errors, where: str, raw: object) -> object:
    if not isinstance(raw, bool):
        errors.add(where, f"expected true or false, got {raw!r}")
        return _BAD
    return raw


def _int_at_least(minimum: int) -> _Check:
    def check(errors: _Errors, where: str, raw: object) -> object:
        value = errors.integer(where, raw, minimum=minimum)
        return _BAD if value is None else value

    return check


def _amount(errors: _Errors, where: str, raw: object) -> object:
    value = errors.decimal(where, raw, positive=True)
    return _BAD if value is None else value


def _seconds(errors: _Errors, where: str, raw: object) -> object:
    value = errors.decimal(where, raw)
    return _BAD if value is None else float(value)


def _fills(errors: _Errors, where: str, raw: object) -> object:
    if not isinstance(raw, list) or not raw:
        errors.add(where, 'expected a non-empty list of ["shares", "price"] pairs')
        return _BAD
    pieces = []
    for i, pair in enumerate(raw):
        if not isinstance(pair, list) or len(pair) != 2:
            errors.add(f"{where}[{i}]", f"expected [shares, price], got {pair!r}")
            return _BAD
        shares = errors.decimal(f"{where}[{i}] shares", pair[0], positive=True)
        price = errors.decimal(f"{where}[{i}] price", pair[1], positive=True)
        if shares is None or price is None:
            return _BAD
        pieces.append((shares, price))
    return tuple(pieces)


_FIELDS: Final[Mapping[str, _Check]] = {
    "code": _int_at_least(1),
    "text": _text,
    "symbol": _symbol,
    "times": _int_at_least(1),
    "received": _flag,
    "client_id": _int_at_least(0),
    "duplicate_last": _flag,
    "exec_before_status": _flag,
    "fills": _fills,
    "price": _amount,
    "shares": _amount,
    "seconds_before": _int_at_least(0),
    "messages": _int_at_least(0),
    "seconds": _seconds,
    "message_id": _int_at_least(1),
}

_BROKER_KEYS: Final = {
    "reject": {"code", "text", "symbol", "times"},
    "fill": {"fills", "duplicate_last", "exec_before_status", "symbol", "times"},
    "drop": {"received", "client_id", "times"},
    "refuse_cancel": {"price", "symbol", "times"},
    "late_fill_on_cancel": {"shares", "price", "seconds_before", "symbol", "times"},
    "pacing_violation": {"symbol", "times"},
}
_BROKER_REQUIRED: Final = {"fill": ("fills",), "late_fill_on_cancel": ("shares", "price")}
_BROKER_RULES: Final[Mapping[str, Callable[..., Rule]]] = {
    "reject": RejectOrder,
    "fill": FillPlan,
    "drop": DropConnection,
    "refuse_cancel": RefuseCancel,
    "late_fill_on_cancel": LateFillOnCancel,
    "pacing_violation": PacingViolation,
}


def _fields(
    where: str,
    item: object,
    allowed: dict[str, set[str]],
    required: Mapping[str, tuple[str, ...]],
    errors: _Errors,
) -> tuple[str, dict[str, Any]] | None:
    """The kind and checked fields of one fault table; None (with errors added) if bad."""
    kind = item.get("kind") if isinstance(item, dict) else None
    if not isinstance(kind, str) or kind not in allowed:
        errors.add(where, f"kind must be one of {', '.join(allowed)}, got {kind!r}")
        return None
    before = len(errors.items)
    table = errors.table(where, item, allowed[kind] | {"kind"})
    for key in required.get(kind, ()):
        if key not in table:
            errors.add(where, f"kind {kind!r} needs {key}")
    fields: dict[str, Any] = {}
    for key in sorted(allowed[kind] & set(table)):
        value = _FIELDS[key](errors, f"{where} {key}", table[key])
        if value is not _BAD:
            fields[key] = value
    return None if len(errors.items) > before else (kind, fields)


def _broker_faults(raw: object, errors: _Errors) -> list[Rule]:
    out: list[Rule] = []
    for where, item in _items(raw, "broker_fault", errors):
        checked = _fields(where, item, _BROKER_KEYS, _BROKER_REQUIRED, errors)
        if checked is not None:
            kind, fields = checked
            out.append(_BROKER_RULES[kind](**fields))
    return out


_WIRE_KEYS: Final = {
    "drop_after": {"messages", "client_id", "message_id"},
    "delay": {"seconds", "messages", "client_id", "message_id"},
    "duplicate": {"messages", "client_id", "message_id"},
    "reorder": {"client_id", "message_id"},
}


def _wire_faults(raw: object, errors: _Errors) -> list[Callable[[WireFaults], None]]:
    out: list[Callable[[WireFaults], None]] = []
    probe = WireFaults()  # arm once now so values out of range are reported with the file
    for where, item in _items(raw, "wire_fault", errors):
        checked = _fields(where, item, _WIRE_KEYS, {}, errors)
        if checked is None:
            continue
        kind, t = checked
        kw = {"client_id": t.get("client_id"), "msg_id": t.get("message_id")}
        arm = _wire_arm(kind, t, kw)
        try:
            arm(probe)
        except UsageError as exc:
            errors.add(where, str(exc))
            continue
        out.append(arm)
    return out


def _wire_arm(kind: str, t: dict[str, Any], kw: dict[str, Any]) -> Callable[[WireFaults], None]:
    if kind == "drop_after":
        return lambda f: f.drop_after(t.get("messages", 0), **kw)
    if kind == "delay":
        return lambda f: f.delay(t.get("seconds", 0), messages=t.get("messages", 1), **kw)
    if kind == "duplicate":
        return lambda f: f.duplicate_next(t.get("messages", 1), **kw)
    return lambda f: f.reorder_next(**kw)
