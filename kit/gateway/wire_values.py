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
from ibguard.kit.gateway.errors import PeerProtocolError

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


def tws_time(when: datetime | None) -> str:
    """``YYYYMMDD HH:MM:SS <zone>``, the form TWS prints execution and completed-order times
    in and both clients parse into an aware datetime; None is the empty field. Only IANA zone
    names survive the trip, so other offsets are sent as the same instant in UTC."""
    if when is None:
        return ""
    zone = when.tzinfo
    if not isinstance(zone, ZoneInfo):
        when, zone = when.astimezone(timezone.utc), _UTC
    return when.strftime("%Y%m%d %H:%M:%S ") + zone.key


_UTC: Final = ZoneInfo("UTC")


class FieldCursor:
    """Reads one request's fields front to back; every read names the field it expects."""

    def __init__(self, fields: Sequence[str], *, start: int = 1) -> None:
        self._fields = fields
        self._pos = start

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
        for _ in range(count):
            self.read_str(name)

    def read_int(self, name: str, default: int = 0) -> int:
        raw = self.read_str(name)
        if raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise PeerProtocolError(f"field {name!r} is not an integer: {raw!r}") from None

    def read_bool(self, name: str) -> bool:
        return self.read_int(name) != 0

    def read_decimal(self, name: str) -> Decimal | None:
        """A double field: empty (the clients' "unset") is None."""
        raw = self.read_str(name)
        if raw == "":
            return None
        if raw == "Infinite":  # how the clients spell math.inf
            return Decimal("Infinity")
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise PeerProtocolError(f"field {name!r} is not a number: {raw!r}") from None

    def rest(self) -> tuple[str, ...]:
        out = tuple(self._fields[self._pos :])
        self._pos = len(self._fields)
        return out

    def finish(self, message: str) -> None:
        """The request must have been read exactly to its end."""
        if self.remaining:
            raise PeerProtocolError(f"{message}: {self.remaining} unexpected trailing fields")
