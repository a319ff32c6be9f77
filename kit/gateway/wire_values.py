"""Text form of the values carried in TWS fields, in both directions.

Outbound: `text` formats one Python value (bool as ``1``/``0``, Decimal in plain positional
notation, never an exponent or float noise, None as the empty field); `double` and `integer`
write None as IB's "unset" sentinels, which real TWS sends and both pinned decoders read back as
their unset defaults. Floats are refused: money and quantities are Decimal end to end.
Inbound: `FieldCursor` reads a request's fields in order, typed, and raises `PeerProtocolError`
on a malformed field, a missing one, or leftovers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Final
from zoneinfo import ZoneInfo

from ibguard.errors import UsageError
from ibguard.kit.gateway.errors import PeerProtocolError, UnreadableField

__all__ = [
    "UNSET_DOUBLE",
    "UNSET_INTEGER",
    "FieldCursor",
    "Fields",
    "Value",
    "double",
    "integer",
    "text",
    "tws_time",
]

Value = str | int | bool | Decimal | None
Fields = tuple[str, ...]  # one message, message id first

# Java's Double.MAX_VALUE and Integer.MAX_VALUE, as TWS prints them.
UNSET_DOUBLE: Final = "1.7976931348623157E308"
UNSET_INTEGER: Final = "2147483647"
_MAX_DOUBLE: Final = Decimal(UNSET_DOUBLE)
_INT_RANGE: Final = range(-(2**31), 2**31)  # Java int: every id and count TWS reads
_INFINITE: Final = Decimal("Infinity")


def text(value: Value) -> str:
    """The field text of one value."""
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "1" if value else "0"
    if isinstance(value, int):
        return str(int(value))  # int() first: str() of an IntEnum differs on Python 3.10
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise UsageError(f"cannot send non-finite Decimal {value}")
        return format(value, "f")
    if isinstance(value, str):
        return value
    raise UsageError(f"unsupported field value {value!r} ({type(value).__name__})")


def double(value: Decimal | None) -> str:
    """A double field; None is IB's unset double."""
    return UNSET_DOUBLE if value is None else text(value)


def integer(value: int | None) -> str:
    """An int field; None is IB's unset integer."""
    return UNSET_INTEGER if value is None else text(value)


def tws_time(when: datetime | None, *, zone_printed: bool = True) -> str:
    """``YYYYMMDD HH:MM:SS <zone>``, the form TWS prints execution and completed-order times
    in and both clients parse into an aware datetime; None is the empty field. Only IANA zone
    names survive the trip, so other offsets are sent as the same instant in UTC. Without
    `zone_printed`, the wall clock in `when`'s zone and no zone, as older TWS builds print
    execution times (in their login zone: a client must be told which)."""
    if when is None:
        return ""
    zone = when.tzinfo
    if not isinstance(zone, ZoneInfo):
        when, zone = when.astimezone(timezone.utc), _UTC
    wall = when.strftime("%Y%m%d %H:%M:%S")
    return f"{wall} {zone.key}" if zone_printed else wall


_UTC: Final = ZoneInfo("UTC")


class FieldCursor:
    """Reads one request's fields front to back; every read names the field it expects."""

    def __init__(self, fields: Sequence[str], *, start: int = 1) -> None:
        self._fields = fields
        self._pos = start
        self.request_id = -1  # the orderId / reqId once read: a refusal answers to it

    def read_request_id(self, name: str) -> int:
        """The request's own id (orderId or reqId), kept for answering a refusal."""
        self.request_id = self.read_int(name)
        return self.request_id

    @property
    def remaining(self) -> int:
        return len(self._fields) - self._pos

    def read_str(self, name: str) -> str:
        if self._pos >= len(self._fields):
            raise PeerProtocolError(f"message ended before field {name!r}")
        value = self._fields[self._pos]
        self._pos += 1
        return value

    def skip(self, name: str, count: int = 1) -> None:
        end = self._pos + count
        if end > len(self._fields):
            raise PeerProtocolError(f"message ended before field {name!r}")
        self._pos = end

    def read_int(self, name: str, default: int = 0) -> int:
        """An int field as TWS reads it (Java int, ASCII digits with an optional minus):
        empty is ``default``; anything else is `UnreadableField`."""
        raw = self.read_str(name)
        if raw == "":
            return default
        digits = raw[1:] if raw.startswith("-") else raw
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
            raise UnreadableField(name, raw, reason=" (not an integer)")
        value = int(raw)
        if value not in _INT_RANGE:
            raise UnreadableField(name, raw, reason=" (outside Java's int)")
        return value

    def read_bool(self, name: str) -> bool:
        return self.read_int(name) != 0

    def read_decimal(self, name: str, *, infinite_ok: bool = False) -> Decimal | None:
        """A double field: empty (the clients' "unset") and Java's Double.MAX_VALUE (how some
        clients spell unset) are None. NaN, infinities and numbers beyond a double are
        `UnreadableField`, except the clients' "Infinite" where ``infinite_ok``."""
        raw = self.read_str(name)
        if raw == "":
            return None
        if raw == "Infinite" and infinite_ok:  # how the clients spell math.inf
            return _INFINITE
        if len(raw) > 64:  # a double prints in at most 24 characters
            raise UnreadableField(name, raw, reason=" (too long for a double)")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise UnreadableField(name, raw, reason=" (not a number)") from None
        if not value.is_finite() or abs(value) > _MAX_DOUBLE:
            raise UnreadableField(name, raw, reason=" (not a finite double)")
        return None if abs(value) == _MAX_DOUBLE else value

    def rest(self) -> tuple[str, ...]:
        out = tuple(self._fields[self._pos :])
        self._pos = len(self._fields)
        return out

    def finish(self, message: str) -> None:
        """The request must have been read exactly to its end."""
        if self.remaining:
            raise PeerProtocolError(f"{message}: {self.remaining} unexpected trailing fields")
