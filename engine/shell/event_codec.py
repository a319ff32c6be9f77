"""Events to journal rows and back: exact, closed, bounded and versioned.

A row (format 2) is a JSON array: the format, the event's type name, then its fields in
declaration order, each in the shape its type hint gives it: Decimal as its string, a
datetime as ISO-8601 with its offset, an enum as its value, a nested dataclass as the
array of its own fields, a tuple as an array. So a replay reproduces the book to the last
digit, and only the engine's own types come out (see journal_values.py); a row that does
not fit its type's shape exactly is `JournalCorrupt`. Rows of format 1 (an object per
value, from earlier versions) still decode. A batch row (`decode_batch`) is the JSON array
of its events' format-2 rows.

Encoding is on the service's per-event path, so each event class gets an encoder built
once from its type hints: one generated function that makes the whole row as one f-string
(nested dataclasses spelled out in place, the way `dataclasses` generates `__init__`;
compiled, where a %-format parses its format string on every call), instead of inspecting
every value and handing a tree to the json module.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from ibguard.engine.events import Event, ExecutionReport
from ibguard.engine.model import Instrument
from ibguard.engine.shell.event_codec_v1 import decode_v1
from ibguard.engine.shell.journal_values import (
    ENGINE_TYPES,
    EVENT_TYPES,
    MAX_EXPONENT,
    JournalCorrupt,
    journal_number,
)
from ibguard.errors import InternalError

__all__ = [
    "FORMAT_VERSION",
    "MAX_EXPONENT",
    "JournalCorrupt",
    "decode_batch",
    "decode_event",
    "encode_batch",
    "encode_event",
    "forget_kept_texts",
]

FORMAT_VERSION: Final = 2
_JSON: Final = json.JSONEncoder(separators=(",", ":"))
_QUOTE: Final = json.encoder.encode_basestring_ascii  # json's own string quoting
_PLAIN: Final = (str, int, bool)
Decoder = Callable[[object], object]
_FORGETTABLE: Final[list[_Kept | _TimeText]] = []  # every kept text, for forget_kept_texts
_In = typing.TypeVar("_In")

# --- encoding ------------------------------------------------------------------------------


def _optional(hint: Any) -> Any | None:
    """X for `X | None`, else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1 and len(typing.get_args(hint)) == 2:
            return options[0]
    return None


def _expression(hint: Any, value: str, names: dict[str, object], depth: int = 0) -> str:
    """Python source that turns `value` (of type `hint`) into its JSON text."""
    if hint is str:
        return f"_quote({value})"
    if hint is int:
        return f"str({value} if type({value}) is int else _not_int({value}))"
    if hint is bool:
        return f'("true" if {value} else "false")'
    if hint is Decimal or hint is datetime:  # their text never needs escaping
        text = f"str({value})" if hint is Decimal else f"_time_text({value})"
        return f"('\"' + {text} + '\"')"
    if isinstance(hint, type) and issubclass(hint, Enum):  # each member's text, made once
        # keyed by value: a member's own hash is a Python call
        names[f"_text_of_{hint.__name__}"] = {m.value: _JSON.encode(m.value) for m in hint}
        return f"_text_of_{hint.__name__}[{value}._value_]"
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        names[f"_fields_of_{hint.__name__}"] = _fields_encoder(hint)
        return f"_fields_of_{hint.__name__}({value})"
    inner = _optional(hint)
    if inner is not None:
        return f'("null" if {value} is None else {_expression(inner, value, names, depth)})'
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = f"_item{depth}"
        each = _expression(args[0], item, names, depth + 1)
        return f'("[" + ",".join([{each} for {item} in {value}]) + "]")'
    if typing.get_origin(hint) is tuple and Ellipsis not in args:
        parts = [_expression(a, f"{value}[{n}]", names, depth) for n, a in enumerate(args)]
        return f'("[" + ",".join(({", ".join(parts)},)) + "]")'
    raise InternalError(f"no journal shape for {hint!r}")  # a new field type: teach it here


def _not_int(value: object) -> int:
    """An int field holding a bool (or worse): refused, as the row would not read back."""
    raise JournalCorrupt(f"not an int: {value!r}")


class _TimeText:
    """ISO-8601 text of a datetime, the last UTC one remembered: fills that arrive together
    mostly carry the same broker time (IB stamps executions to the second, in UTC), and
    `isoformat` with an offset costs more than the rest of a row."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        # (time, text): one tuple, read and replaced whole; the generated encoders read it
        self.last: tuple[object, str] = (None, "")
        _FORGETTABLE.append(self)

    def forget(self) -> None:
        self.last = (None, "")

    def text(self, value: datetime) -> str:
        last, text = self.last
        if value.tzinfo is timezone.utc and type(value) is datetime:
            # equal UTC datetimes have equal fields, hence equal text (fold is not shown)
            if value != last:
                text = value.isoformat()
                self.last = (value, text)
            return text
        return value.isoformat()


def _pieces(hint: Any, value: str, names: dict[str, object], prelude: list[str]) -> str:
    """f-string source (literal text and {expressions}) for `value` of type `hint`: the
    common shapes go straight into the row's one f-string, nested dataclasses spelled out
    in place; what needs statements (the kept texts of times and instruments, the rarer
    shapes) is computed into a local by `prelude` lines first."""
    if hint is str or (isinstance(hint, type) and issubclass(hint, Enum)):
        return f"{{{_expression(hint, value, names)}}}"
    if hint is int:  # only an exact int: a bool or a float would not read back as one
        return f"{{({value} if type({value}) is int else _not_int({value}))!r}}"
    if hint is Decimal:  # str(): the exact digits, which never need escaping
        return f'"{{{value}!s}}"'
    local = f"_v{len(prelude)}"
    if hint is datetime:  # the last UTC time's text, tested here: a call costs more
        prelude += [
            f"{local} = {value}",
            "_last = _times.last",
            f"if {local} == _last[0] and {local}.tzinfo is _utc and type({local}) is _datetime:",
            f"    {local} = _last[1]",
            "else:",
            f"    {local} = _times.text({local})",
        ]
        return f'"{{{local}}}"'
    shared = _SHARED_TEXTS.get(hint)
    if shared is not None:  # an Instrument: its kept text, looked up here
        name = hint.__name__
        names[f"_kept_{name}"], names[f"_keep_{name}"] = shared.kept, shared.keep
        prelude += [
            f"{local} = {value}",
            f"_kept = _kept_{name}(_id({local}))",
            f"{local} = _keep_{name}({local}) if _kept is None else _kept[1]",
        ]
        return f"{{{local}}}"
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return "[" + ",".join(_field_pieces(hint, f"{value}.", names, prelude)) + "]"
    prelude.append(f"{local} = {_expression(hint, value, names)}")  # optional, tuple
    return f"{{{local}}}"


class _Kept:
    """A bounded table of kept texts, read by the generated encoders through `kept` (the
    dict's own lookup); forgotten all at once when full (or by `forget_kept_texts`)."""

    __slots__ = ("_texts", "kept")

    def __init__(self) -> None:
        self._texts: dict[object, tuple[object, ...]] = {}
        self.kept = self._texts.get
        _FORGETTABLE.append(self)

    def store(self, key: object, entry: tuple[object, ...]) -> None:
        if len(self._texts) >= _SHARED_KEPT:
            self._texts.clear()  # the same dict: `kept` stays its lookup
        self._texts[key] = entry

    def forget(self) -> None:
        self._texts.clear()


class _SharedText(_Kept):
    """The text of frozen values the connector hands out once per thing and then shares
    (one Instrument per contract: connector.translate.instrument_of), kept per object as
    (object, text) by id(object): every fill of a contract carries the same Instrument.
    Each kept object is held, so its id stays its own."""

    __slots__ = ("_encode",)

    def __init__(self, encode: Callable[[Any], str]) -> None:
        super().__init__()
        self._encode = encode

    def keep(self, value: object) -> str:
        """The text of `value`, not kept yet (see `kept`): made, and kept."""
        text = self._encode(value)
        self.store(id(value), (value, text))
        return text


def _field_pieces(
    cls: type[Any], prefix: str, names: dict[str, object], prelude: list[str]
) -> list[str]:
    hints = typing.get_type_hints(cls)
    return [
        _pieces(hints[field.name], f"{prefix}{field.name}", names, prelude)
        for field in dataclasses.fields(cls)
    ]


def _generate(cls: type[Any], prefix: Sequence[str]) -> Callable[[Any], str]:
    """One function for `cls`: its row as one f-string of all its fields (nested ones
    spelled out in place), the way `dataclasses` generates `__init__`: no per-value
    dispatch, lists or joins, and no format string parsed per call."""
    names = _names()
    prelude: list[str] = []
    run = _ORDER_RUNS.get(cls) if prefix else None  # (a nested value's fields: no run)
    if run is None:
        pieces = _field_pieces(cls, "event.", names, prelude)
    else:
        pieces = _pieces_with_run(cls, run, names, prelude)
    return _compiled("[" + ",".join([*prefix, *pieces]) + "]", prelude, names)


def _names() -> dict[str, object]:
    """What generated encoders refer to (each encoder its own, with its own kept time)."""
    times = _TimeText()
    return {
        "_quote": _QUOTE,
        "_not_int": _not_int,
        "_times": times,
        "_time_text": times.text,  # for times inside optional values and tuples
        "_utc": timezone.utc,
        "_datetime": datetime,
        "_id": id,
    }


def _compiled(text: str, prelude: list[str], names: dict[str, object]) -> Callable[[Any], str]:
    body = "".join(f"    {line}\n" for line in prelude)
    source = f"def encode(event):\n{body}    return f'''{text}'''\n"
    exec(source, names)  # our own source, built from the class's type hints
    encode: Callable[[Any], str] = names["encode"]  # type: ignore[assignment]  # exec'd above
    return encode


def _pieces_with_run(
    cls: type[Any], run: tuple[str, ...], names: dict[str, object], prelude: list[str]
) -> list[str]:
    """`cls`'s pieces with its order run's fields as one piece: their kept text, checked
    value by value against the event (a compare each, where making the text costs an
    int's repr, a quote or a lookup each), else made in place and kept."""
    hints = typing.get_type_hints(cls)
    fields = [field.name for field in dataclasses.fields(cls)]
    start = fields.index(run[0])
    if tuple(fields[start : start + len(run)]) != run or _RUN_KEY not in run:
        raise InternalError(f"{cls.__name__}: an order run is consecutive fields with its key")
    # (*values, text) by permId: the run's values, ints exactly ints (an equal bool is
    # refused when made, so never kept), texts equal, the same Instrument and member
    kept = names["_runs"] = _Kept()
    names["_run_kept"] = kept.kept
    same: list[str] = []
    for n, name in enumerate(run):
        prelude.append(f"_r{n} = event.{name}")
        hint = hints[name]
        if hint is int:  # the key itself is equal: the lookup found it
            equal = "" if name == _RUN_KEY else f"_k[{n}] == _r{n} and "
            same.append(f"{equal}type(_r{n}) is int")
        elif hint is str:
            same.append(f"_k[{n}] == _r{n}")
        elif (isinstance(hint, type) and issubclass(hint, Enum)) or hint in _SHARED_TEXTS:
            same.append(f"_k[{n}] is _r{n}")  # members, and the objects whose text is kept
        else:
            raise InternalError(f"{cls.__name__}.{name}: no order-run check for {hint!r}")
    making: list[str] = []
    text = ",".join(_pieces(hints[name], f"_r{n}", names, making) for n, name in enumerate(run))
    values = "".join(f"_r{n}, " for n in range(len(run)))
    prelude += [
        f"_k = _run_kept(_r{run.index(_RUN_KEY)})",
        f"if _k is not None and {' and '.join(same)}:",
        f"    _text = _k[{len(run)}]",
        "else:",
        *(f"    {line}" for line in making),
        f"    _text = f'''{text}'''",
        f"    _runs.store(_r{run.index(_RUN_KEY)}, ({values}_text))",
    ]
    return [
        *(_pieces(hints[name], f"event.{name}", names, prelude) for name in fields[:start]),
        "{_text}",
        *(
            _pieces(hints[name], f"event.{name}", names, prelude)
            for name in fields[start + len(run) :]
        ),
    ]


_FIELDS_ENCODERS: dict[type[Any], Callable[[Any], str]] = {}


def _fields_encoder(cls: type[Any]) -> Callable[[Any], str]:
    encoder = _FIELDS_ENCODERS.get(cls)
    if encoder is None:
        encoder = _FIELDS_ENCODERS[cls] = _generate(cls, ())
    return encoder


_SHARED_KEPT: Final = 4096
_SHARED_TEXTS: Final = {Instrument: _SharedText(_fields_encoder(Instrument))}

# An order's own fields, the same in every event of that order: each fill of an order
# carries its ids, ref, contract and side, and a fill's row spends a third of its cost
# on them. Their text is kept per order (see _pieces_with_run); the row is the same text.
_RUN_KEY: Final = "perm_id"  # one per order, for the life of the order
_ORDER_RUNS: Final[dict[type[Any], tuple[str, ...]]] = {
    ExecutionReport: ("order_id", "client_id", "perm_id", "order_ref", "instrument", "side"),
}

_ROW_ENCODERS: Final = {
    cls: _generate(cls, (str(FORMAT_VERSION), f'"{cls.__name__}"')) for cls in EVENT_TYPES
}


def forget_kept_texts() -> None:
    """Forget every kept text (contracts, order runs, the last time): the encoders then
    make each text again on first use, as in a new process. Rows are the same either
    way; a benchmark calls this so that each side pays for its own first events."""
    for each in _FORGETTABLE:
        each.forget()


def encode_event(event: Event) -> str:
    return _ROW_ENCODERS.get(type(event), _not_an_event)(event)


def encode_batch(events: Sequence[Event]) -> str:
    """The batch row of `events` (what `decode_batch` reads): their rows in one array."""
    encoders = _ROW_ENCODERS
    return "[" + ",".join([encoders.get(type(e), _not_an_event)(e) for e in events]) + "]"


def _not_an_event(value: object) -> str:
    raise JournalCorrupt(f"not an engine event: {type(value).__name__}")


# --- decoding ------------------------------------------------------------------------------


def _exactly(kind: type[Any]) -> Decoder:
    def decode(value: object) -> object:
        if type(value) is not kind:  # bool is no int here, nor int a bool
            raise JournalCorrupt(f"expected {kind.__name__}, got {str(value)[:40]!r}")
        return value

    return decode


def _decoder(hint: Any) -> Decoder:
    if hint in _PLAIN:
        return _exactly(hint)
    if hint is Decimal:
        return journal_number
    if hint is datetime:
        text = _exactly(str)
        return lambda value: datetime.fromisoformat(text(value))  # type: ignore[arg-type]  # str
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _fields_decoder(hint)
    inner = _optional(hint)
    if inner is not None:
        present = _decoder(inner)
        return lambda value: None if value is None else present(value)
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])
        return lambda value: tuple(item(v) for v in _array(value, None))
    if typing.get_origin(hint) is tuple and Ellipsis not in args:
        parts = [_decoder(a) for a in args]

        def fixed(value: object) -> object:
            row = _array(value, len(parts))
            return tuple(part(v) for part, v in zip(parts, row, strict=True))

        return fixed
    raise InternalError(f"no journal shape for {hint!r}")


def _array(value: object, length: int | None) -> list[object]:
    if type(value) is not list or (length is not None and len(value) != length):
        raise JournalCorrupt(f"expected an array of {length or 'any'} values, got {value!r:.40}")
    return value


_FIELDS_DECODERS: dict[type[Any], Decoder] = {}


def _fields_decoder(cls: type[Any]) -> Decoder:
    decoder = _FIELDS_DECODERS.get(cls)
    if decoder is not None:
        return decoder
    hints = typing.get_type_hints(cls)
    fields = [(f.name, _decoder(hints[f.name])) for f in dataclasses.fields(cls)]

    def decode(value: object) -> object:
        row = _array(value, len(fields))
        return cls(**{name: part(v) for (name, part), v in zip(fields, row, strict=True)})

    _FIELDS_DECODERS[cls] = decode
    return decode


_ROW_DECODERS: Final = {cls.__name__: _fields_decoder(cls) for cls in EVENT_TYPES}


def decode_event(text: str) -> Event:
    """The event of one row (format 2, or format 1 of earlier versions)."""
    document = _guarded(json.loads, text)
    if isinstance(document, list):
        return _event(_guarded(_decode_row, document))
    return _event(_guarded(decode_v1, document))


def decode_batch(text: str) -> list[Event]:
    """The events of a batch row: the format-2 rows of one batch in one JSON array."""
    document = _guarded(json.loads, text)
    if type(document) is not list or not document:
        raise JournalCorrupt(f"batch row {text[:60]!r} is no array of event rows")
    return [_event(_guarded(_decode_row, _array(row, None))) for row in document]


def _guarded(decode: Callable[[_In], object], value: _In) -> object:
    """`decode(value)`, any failure of a bad row being JournalCorrupt."""
    try:
        return decode(value)
    except JournalCorrupt:
        raise
    # ArithmeticError: decimal signals, a datetime out of range; RecursionError: json.loads
    # on a row nested beyond Python's stack
    except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as error:
        raise JournalCorrupt(f"unreadable journal row: {str(error)[:200]}") from error
    except RecursionError:
        raise JournalCorrupt("unreadable journal row: nested too deep") from None


def _event(decoded: object) -> Event:
    if type(decoded) not in EVENT_TYPES:
        raise JournalCorrupt(f"journal row is a {type(decoded).__name__}, not an event")
    return decoded  # type: ignore[return-value]  # its type was checked just above


def _decode_row(row: list[object]) -> object:
    if len(row) < 2 or row[0] != FORMAT_VERSION or type(row[1]) is not str:
        raise JournalCorrupt(f"journal row {str(row)[:60]!r} is no format-2 event row")
    decode = _ROW_DECODERS.get(row[1])
    if decode is None:
        known = row[1] if row[1] in ENGINE_TYPES else "unknown"
        raise JournalCorrupt(f"journal row of {known} type {row[1][:80]!r}, not an event")
    return decode(row[2:])
