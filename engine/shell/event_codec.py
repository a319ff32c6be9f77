"""Events to JSON text and back, for the journal: exact, closed, bounded and versioned.

Exact: Decimal travels as its string, datetimes as ISO-8601 with their offset, so a replay
reproduces the book to the last digit. Closed: only the engine's own event and value types
(and their enums) decode; anything else is a `JournalCorrupt` naming what was found.
Bounded: a row nested deeper than any event, or holding a number no order can hold
(non-finite, or beyond 10^±40), is `JournalCorrupt` too, never a crash of the replay.

Encoding is on the service's per-event path, so each type's encoder is built once (its
field names read once, not per event) and values are dispatched on their exact type.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from ibguard.engine import commands, events, model
from ibguard.engine.errors import IbguardError
from ibguard.engine.events import Event

__all__ = ["FORMAT_VERSION", "JournalCorrupt", "decode_event", "encode_event"]

FORMAT_VERSION = 1
MAX_EXPONENT: Final = 40  # |adjusted exponent| of any number a journal row may hold
MAX_DEPTH: Final = 32  # events nest a few levels (snapshot -> report -> instrument)


class JournalCorrupt(IbguardError, ValueError):
    """A journal row that is not an event this engine wrote."""


def _registry(*modules: Any) -> dict[str, type[Any]]:
    found: dict[str, type[Any]] = {}
    for module in modules:
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and (
                dataclasses.is_dataclass(value) or issubclass(value, Enum)
            ):
                found[name] = value
    return found


_TYPES = _registry(events, model, commands)
_EVENT_TYPES = frozenset(cls for cls in _TYPES.values() if cls.__module__ == events.__name__)
_PLAIN: Final = frozenset({str, int, bool, float, type(None)})

Encoder = Callable[[Any], object]


def _dataclass_encoder(cls: type[Any]) -> Encoder:
    name = cls.__name__
    fields = tuple(f.name for f in dataclasses.fields(cls))

    def encode(value: Any) -> object:
        body: dict[str, object] = {"__type__": name}
        for field in fields:
            body[field] = _encode(getattr(value, field))
        return body

    return encode


def _enum_encoder(cls: type[Any]) -> Encoder:
    name = cls.__name__
    return lambda value: {"__enum__": name, "value": value.value}


def _sequence(value: Any) -> object:
    return [_encode(item) for item in value]


_ENCODERS: dict[type[Any], Encoder] = {
    Decimal: lambda value: {"__decimal__": str(value)},
    datetime: lambda value: {"__datetime__": value.isoformat()},
    tuple: _sequence,
    frozenset: _sequence,
    **{
        cls: _enum_encoder(cls) if issubclass(cls, Enum) else _dataclass_encoder(cls)
        for cls in _TYPES.values()
    },
}


def _encode(value: object) -> object:
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value)
    if type(value) in _PLAIN:
        return value
    return _encode_other(value)


def _encode_other(value: object) -> object:
    """Subclasses and foreign dataclasses: encoded by kind (a foreign type will not decode)."""
    if isinstance(value, Enum):
        return {"__enum__": type(value).__name__, "value": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass_encoder(type(value))(value)
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, tuple | frozenset):
        return _sequence(value)
    return value


def _decode(value: object, depth: int = 0) -> object:
    if depth > MAX_DEPTH:
        raise JournalCorrupt(f"journal row nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        return tuple(_decode(item, depth + 1) for item in value)
    if not isinstance(value, dict):
        return value
    if "__decimal__" in value:
        return _number(value["__decimal__"])
    if "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    if "__enum__" in value:
        return _lookup(value["__enum__"])(value["value"])
    name = value.get("__type__")
    cls = _lookup(name)
    fields = {k: _decode(v, depth + 1) for k, v in value.items() if k != "__type__"}
    return cls(**fields)


def _number(text: object) -> Decimal:
    if not isinstance(text, str) or len(text) > 2 * MAX_EXPONENT + 20:
        raise JournalCorrupt(f"not a number in journal: {str(text)[:40]!r}")
    number = Decimal(text)
    if not number.is_finite() or (
        number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT
    ):
        raise JournalCorrupt(f"number out of range in journal: {text[:40]!r}")
    return number


def _lookup(name: object) -> type[Any]:
    cls = _TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise JournalCorrupt(f"unknown type in journal: {str(name)[:80]!r}")
    return cls


def encode_event(event: Event) -> str:
    if type(event) not in _EVENT_TYPES:
        raise JournalCorrupt(f"not an engine event: {type(event).__name__}")
    return json.dumps({"v": FORMAT_VERSION, "event": _encode(event)}, separators=(",", ":"))


def decode_event(text: str) -> Event:
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("v") != FORMAT_VERSION:
            version = document.get("v") if isinstance(document, dict) else None
            raise JournalCorrupt(f"journal format {version!r}, expected {FORMAT_VERSION}")
        event = _decode(document["event"])
    except JournalCorrupt:
        raise
    # ArithmeticError: decimal signals, a datetime out of range; RecursionError: json.loads
    # on a row nested beyond Python's stack, before MAX_DEPTH can look at it
    except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as error:
        raise JournalCorrupt(f"unreadable journal row: {str(error)[:200]}") from error
    except RecursionError:
        raise JournalCorrupt("unreadable journal row: nested too deep") from None
    if type(event) not in _EVENT_TYPES:
        raise JournalCorrupt(f"journal row is a {type(event).__name__}, not an event")
    return event  # type: ignore[return-value]  # its type was checked just above
