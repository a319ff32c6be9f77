"""Events to JSON text and back, for the journal: exact, closed, and versioned.

Exact: Decimal travels as its string, datetimes as ISO-8601 with their offset, so a replay
reproduces the book to the last digit. Closed: only the engine's own event and value types
(and their enums) decode; anything else is a `JournalCorrupt` naming what was found.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from ibguard.engine import commands, events, model
from ibguard.engine.errors import IbguardError
from ibguard.engine.events import Event

__all__ = ["FORMAT_VERSION", "JournalCorrupt", "decode_event", "encode_event"]

FORMAT_VERSION = 1


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
_EVENT_TYPES = frozenset(name for name, cls in _TYPES.items() if cls.__module__ == events.__name__)


def _encode(value: object) -> object:
    if isinstance(value, Enum):
        return {"__enum__": type(value).__name__, "value": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        body = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **body}
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, tuple | frozenset):
        return [_encode(item) for item in value]
    return value  # str, int, bool, float, None


def _decode(value: object) -> object:
    if isinstance(value, list):
        return tuple(_decode(item) for item in value)
    if not isinstance(value, dict):
        return value
    if "__decimal__" in value:
        return Decimal(value["__decimal__"])
    if "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    if "__enum__" in value:
        return _lookup(value["__enum__"])(value["value"])
    name = value.get("__type__")
    cls = _lookup(name)
    fields = {k: _decode(v) for k, v in value.items() if k != "__type__"}
    return cls(**fields)


def _lookup(name: object) -> type[Any]:
    cls = _TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise JournalCorrupt(f"unknown type in journal: {name!r}")
    return cls


def encode_event(event: Event) -> str:
    if type(event).__name__ not in _EVENT_TYPES:
        raise JournalCorrupt(f"not an engine event: {type(event).__name__}")
    return json.dumps({"v": FORMAT_VERSION, "event": _encode(event)}, separators=(",", ":"))


def decode_event(text: str) -> Event:
    try:
        document = json.loads(text)
        if document.get("v") != FORMAT_VERSION:
            raise JournalCorrupt(f"journal format {document.get('v')!r}, expected {FORMAT_VERSION}")
        event = _decode(document["event"])
    except JournalCorrupt:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, InvalidOperation) as error:
        raise JournalCorrupt(f"unreadable journal row: {error}") from error
    if type(event).__name__ not in _EVENT_TYPES:
        raise JournalCorrupt(f"journal row is a {type(event).__name__}, not an event")
    return event  # type: ignore[return-value]  # its type was checked by name just above
