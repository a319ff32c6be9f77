"""Drive the pinned clients' own `Decoder` with fields the gateway encoded, strictly.

`decode_strict(client, version, fields)` returns the one wrapper call the message produced and
fails the test when:
- the decoder logged an error (both clients catch and log decode errors instead of raising);
- the wrapper was called with arguments its real `Wrapper` method cannot take;
- a field was left unread. The decoders unpack with a starred tail and silently ignore extra
  fields, so exhaustion is proved per handler kind: a table-driven handler (`Decoder.wrap`)
  reads exactly ``skip + len(types)`` fields; a hand-written handler must fail when the last
  field is cut off, i.e. it really read it.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timezone
from types import SimpleNamespace
from typing import Any

CLIENT_VERSIONS: dict[str, range] = {
    "ib_async": range(157, 179),
    "ib_insync": range(157, 177),
}

CLIENT_VERSION_PAIRS = [(c, v) for c, vs in CLIENT_VERSIONS.items() for v in vs]


def pair_id(pair: tuple[str, int]) -> str:
    return f"{pair[0]}-v{pair[1]}"


@dataclass
class Call:
    name: str
    args: tuple[Any, ...]


class RecordingWrapper:
    """Stands in for the client's Wrapper; checks each call against the real signature."""

    def __init__(self, real: type) -> None:
        self.calls: list[Call] = []
        self._real = real
        self.defaultTimezone = timezone.utc  # read by ib_async's execDetails
        self.ib = SimpleNamespace(TimezoneTWS=None)

    def __getattr__(self, name: str) -> Any:
        signature = inspect.signature(getattr(self._real, name))

        def record(*args: Any) -> None:
            signature.bind(self, *args)  # TypeError (logged by the decoder) on a bad arity
            self.calls.append(Call(name, args))

        return record


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _captured(logger_name: str) -> Iterator[_Collect]:
    handler = _Collect()
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def decode_loose(client: str, version: int, fields: Sequence[str]) -> tuple[list[Call], list[str]]:
    """Run the client's decoder; return wrapper calls and logged problems."""
    decoder_mod = importlib.import_module(f"{client}.decoder")
    wrapper = RecordingWrapper(importlib.import_module(f"{client}.wrapper").Wrapper)
    decoder = decoder_mod.Decoder(wrapper, version)
    with _captured(f"{client}.Decoder") as log:
        try:
            decoder.interpret(list(fields))
        except Exception as exc:  # the decoder is meant to log, but surface anything raised
            return wrapper.calls, [f"raised {exc!r}"]
    problems = [r.getMessage() + (f" {r.exc_info[1]!r}" if r.exc_info else "") for r in log.records]
    return wrapper.calls, problems


def _table_arity(client: str, version: int, msg_id: int) -> int | None:
    """skip + len(types) for a `Decoder.wrap` handler, None for a hand-written one."""
    decoder_mod = importlib.import_module(f"{client}.decoder")
    wrapper = RecordingWrapper(importlib.import_module(f"{client}.wrapper").Wrapper)
    handler = decoder_mod.Decoder(wrapper, version).handlers[msg_id]
    cells = getattr(handler, "__closure__", None)
    if not cells:
        return None
    env = dict(zip(handler.__code__.co_freevars, (c.cell_contents for c in cells), strict=True))
    return int(env["skip"]) + len(env["types"])


def decode_strict(client: str, version: int, fields: Sequence[str]) -> Call:
    calls, problems = decode_loose(client, version, fields)
    assert not problems, f"{client} v{version} logged: {problems}"
    assert len(calls) == 1, f"{client} v{version}: expected one wrapper call, got {calls}"
    arity = _table_arity(client, version, int(fields[0]))
    if arity is not None:
        assert len(fields) == arity, (
            f"{client} v{version}: msg {fields[0]} has {len(fields)} fields, decoder reads {arity}"
        )
    else:
        cut_calls, cut_problems = decode_loose(client, version, fields[:-1])
        # read = losing it fails, or changes what the wrapper gets (a list tail with no count;
        # compared by repr: the clients' Order compares by identity)
        assert cut_problems or not cut_calls or repr(cut_calls) != repr(calls), (
            f"{client} v{version}: msg {fields[0]} decodes without its last field "
            f"({len(fields)} sent): that field is never read"
        )
    return calls[0]
