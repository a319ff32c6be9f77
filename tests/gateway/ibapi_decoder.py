"""Drive the official IBKR client's (`ibapi`, PyPI 9.81.1.post1) own `Decoder` with fields the
gateway encoded, strictly, as `client_decoders` does for ib_async and ib_insync.

ibapi 9.81 speaks server versions up to 157, so it is checked at 157. It gets the fields as
bytes, as its reader hands them over. A message fails when the decoder logs an error (a
wrapped message with the wrong field count) or raises (a hand-written one running out of
fields or reading a bad number), or when a field is left unread: dropping the last field must
fail or change what the wrapper receives.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import Any

from .client_decoders import Call

IBAPI_VERSIONS = range(157, 158)  # ibapi 9.81: MAX_CLIENT_VER = 157


class _Recorder:
    def __init__(self) -> None:
        from ibapi.wrapper import EWrapper

        self.calls: list[Call] = []
        self._real = EWrapper

    def __getattr__(self, name: str) -> Any:
        signature = inspect.signature(getattr(self._real, name))

        def record(*args: Any) -> None:
            signature.bind(self, *args)
            self.calls.append(Call(name, args))

        return record


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def decode_ibapi_loose(fields: Sequence[str], version: int = 157) -> tuple[list[Call], list[str]]:
    from ibapi.decoder import Decoder

    wrapper = _Recorder()
    decoder = Decoder(wrapper, version)
    handler = _Collect()
    logger = logging.getLogger("ibapi.decoder")
    logger.addHandler(handler)
    try:
        decoder.interpret(tuple(f.encode() for f in fields))
    except Exception as exc:  # the decoder raises what it cannot read
        return wrapper.calls, [f"raised {exc!r}"]
    finally:
        logger.removeHandler(handler)
    return wrapper.calls, handler.records


def decode_ibapi(fields: Sequence[str], version: int = 157) -> list[Call]:
    calls, problems = decode_ibapi_loose(fields, version)
    assert not problems, f"ibapi v{version} logged: {problems}"
    assert calls, f"ibapi v{version}: no wrapper call for {fields[:3]}"
    cut_calls, cut_problems = decode_ibapi_loose(fields[:-1], version)
    # compared flat: ibapi's tick attributes have no value repr
    assert cut_problems or not cut_calls or flat(cut_calls) != flat(calls), (
        f"ibapi v{version}: msg {fields[0]} decodes without its last field: never read"
    )
    return calls


def flat(calls: list[Call]) -> list[tuple[str, tuple[Any, ...]]]:
    """Calls as (method, primitive args): tick attributes dropped, bars and contract
    descriptions spelled out, sets and lists as sorted comma-joined text."""
    return [(c.name, tuple(v for a in c.args for v in _flat(a))) for c in calls]


def _flat(arg: Any) -> list[Any]:
    kind = type(arg).__name__
    if arg is None or isinstance(arg, (int, float, str)):
        return [arg]
    if kind.startswith("TickAttrib"):
        return []
    if kind == "BarData":
        b = arg
        return [b.barCount, b.date, b.open, b.close, b.high, b.low, b.average, b.volume]
    items = list(arg)
    if items and type(items[0]).__name__ == "ContractDescription":
        out: list[Any] = []
        for d in items:
            c = d.contract
            out += [c.conId, c.symbol, c.secType, c.primaryExchange, c.currency]
            out.append(",".join(d.derivativeSecTypes))
        return out
    return [",".join(sorted(str(i) for i in items))]
