"""Journal rows of format 1 (ibguard before the positional rows of format 2): decode only.

A row is `{"v": 1, "event": {...}}` where every value carries its type: dataclasses as
`{"__type__": name, field: value, ...}`, enums as `{"__enum__": name, "value": v}`, Decimal
as `{"__decimal__": text}`, datetimes as `{"__datetime__": iso}`, tuples as lists. Closed and
bounded like format 2 (see journal_values.py), and nested at most MAX_DEPTH levels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from ibguard.engine.shell.journal_values import ENGINE_TYPES, JournalCorrupt, journal_number

__all__ = ["FORMAT_1", "decode_v1"]

FORMAT_1: Final = 1
MAX_DEPTH: Final = 32  # events nest a few levels (snapshot -> report -> instrument)


def decode_v1(document: object) -> object:
    """The value a parsed format-1 row holds (the caller checks it is an event)."""
    if not isinstance(document, dict) or document.get("v") != FORMAT_1:
        version = document.get("v") if isinstance(document, dict) else None
        raise JournalCorrupt(f"journal format {version!r}, expected {FORMAT_1} or 2")
    return _decode(document["event"], 0)


def _decode(value: object, depth: int) -> object:
    if depth > MAX_DEPTH:
        raise JournalCorrupt(f"journal row nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        return tuple(_decode(item, depth + 1) for item in value)
    if not isinstance(value, dict):
        return value
    if "__decimal__" in value:
        return journal_number(value["__decimal__"])
    if "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    if "__enum__" in value:
        return _lookup(value["__enum__"])(value["value"])
    cls = _lookup(value.get("__type__"))
    fields = {k: _decode(v, depth + 1) for k, v in value.items() if k != "__type__"}
    return cls(**fields)


def _lookup(name: object) -> type[Any]:
    cls = ENGINE_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise JournalCorrupt(f"unknown type in journal: {str(name)[:80]!r}")
    return cls
