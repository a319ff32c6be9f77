"""The gateway's message tables: one encoder per server-to-client message type, one decoder per
client-to-server message id, one handler per request type, each filled by a decorator where
the encoder, decoder or handler is written.

Lookups (`encode_message`, `decode_request`, `serve_request`) load the modules named in
`MODULES` on first use, so a caller never has to import them for their side effect and the
tables cannot be half-filled. Registering the same message type, message id or request type
twice is a `UsageError` at import time.

How to add a message
--------------------
Server to client (say tickPrice):
1. Define the message once, as a frozen dataclass deriving from
   `ibguard.kit.sim.messages.TwsMessage` with IB's field names (in `kit/sim/messages.py`, or a
   new module such as `kit/sim/market_messages.py`). SimBroker posts it to sessions.
2. Add its id to `message_ids.Out` and write the encoder in an ``outbound_*.py`` module::

       @encodes(TickPrice, Out.TICK_PRICE)
       def encode_tick_price(m: TickPrice, server_version: int) -> Fields:
           return (text(Out.TICK_PRICE), "6", text(m.reqId), ...)

3. Add a round-trip sample to `tests/gateway/samples.py` (a test fails for a registered
   message without one).
Client to server (say reqMktData):
1. Add its id to `message_ids.In`; define the request as a frozen dataclass deriving from
   `TwsRequest` in an ``inbound*.py`` module, and its decoder next to it::

       @decodes(In.REQ_MKT_DATA)
       def read_req_mkt_data(cur: FieldCursor, server_version: int) -> ReqMktData: ...

2. Serve it (in `dispatch.py` or the same new module)::

       @serves(ReqMktData)
       def serve_req_mkt_data(r: ReqMktData, session, broker, reply) -> None: ...

A new module is named once in `MODULES` below. A request id with no decoder is answered as
unknown; a decoded request with no handler is refused (WARNING, with its name).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar, final

from ibguard.errors import InternalError, UsageError
from ibguard.kit.gateway.errors import PeerProtocolError, RequestRefused, UnreadableField
from ibguard.kit.gateway.wire_values import FieldCursor, Fields
from ibguard.kit.sim.messages import Message, TwsMessage

if TYPE_CHECKING:
    from ibguard.kit.sim.broker import SimBroker
    from ibguard.kit.sim.session import ApiSession

__all__ = [
    "MODULES",
    "Handler",
    "Reply",
    "TwsRequest",
    "UnknownRequest",
    "decode_request",
    "decodes",
    "encode_message",
    "encodes",
    "handler_for",
    "outbound_types",
    "serves",
]

# Every module that registers an encoder, decoder or handler.
MODULES: Final = (
    "ibguard.kit.gateway.outbound_session",
    "ibguard.kit.gateway.outbound_orders",
    "ibguard.kit.gateway.outbound_executions",
    "ibguard.kit.gateway.outbound_account",
    "ibguard.kit.gateway.outbound_contract",
    "ibguard.kit.gateway.inbound",
    "ibguard.kit.gateway.inbound_order",
    "ibguard.kit.gateway.dispatch",
    "ibguard.kit.gateway.outbound_market",
    "ibguard.kit.gateway.outbound_history",
    "ibguard.kit.gateway.inbound_market",
    "ibguard.kit.gateway.outbound_pnl",
    "ibguard.kit.gateway.inbound_pnl",
    "ibguard.kit.gateway.outbound_ticks",
    "ibguard.kit.gateway.inbound_ticks",
)


@dataclass(frozen=True, slots=True)
class TwsRequest:
    """Base of every decoded client-to-server request."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownRequest(TwsRequest):
    """A message id the gateway has no decoder for."""

    msg_id: int
    fields: tuple[str, ...]  # everything after the message id


M = TypeVar("M", bound=TwsMessage)
R = TypeVar("R", bound=TwsRequest)
Encoder = Callable[[Any, int], Fields]
Decoder = Callable[[FieldCursor, int], TwsRequest]
# Raw frames the gateway answers itself, or messages it sends on the broker's behalf.
Reply = Callable[[Fields | Message], None]
Handler = Callable[[Any, "ApiSession", "SimBroker", Reply], None]

_START_API: Final = 71
_ENCODERS: dict[type[TwsMessage], Encoder] = {}
_OUT_IDS: dict[type[TwsMessage], int] = {}
_DECODERS: dict[int, Decoder] = {}
_HANDLERS: dict[type[TwsRequest], Handler] = {}
_unloaded = list(MODULES)  # emptied by the first lookup


def encodes(
    message_type: type[M], msg_id: int
) -> Callable[[Callable[[M, int], Fields]], Callable[[M, int], Fields]]:
    """Register the encoder of ``message_type`` (whose frames start with ``msg_id``)."""

    def register(encoder: Callable[[M, int], Fields]) -> Callable[[M, int], Fields]:
        if message_type in _ENCODERS:
            raise InternalError(f"{message_type.__name__} already has an encoder")
        _ENCODERS[message_type] = encoder
        _OUT_IDS[message_type] = int(msg_id)
        return encoder

    return register


def decodes(
    msg_id: int,
) -> Callable[[Callable[[FieldCursor, int], R]], Callable[[FieldCursor, int], R]]:
    """Register the decoder of client message ``msg_id``; it reads the fields after the id."""

    def register(decoder: Callable[[FieldCursor, int], R]) -> Callable[[FieldCursor, int], R]:
        if int(msg_id) in _DECODERS:
            raise InternalError(f"message id {int(msg_id)} already has a decoder")
        _DECODERS[int(msg_id)] = decoder
        return decoder

    return register


def serves(request_type: type[R]) -> Callable[[Handler], Handler]:
    """Register the handler of ``request_type`` for a started session."""

    def register(handler: Handler) -> Handler:
        if request_type in _HANDLERS:
            raise InternalError(f"{request_type.__name__} already has a handler")
        _HANDLERS[request_type] = handler
        return handler

    return register


def _load() -> None:
    while _unloaded:
        importlib.import_module(_unloaded.pop(0))


def encode_message(message: TwsMessage, server_version: int) -> Fields:
    """The fields of the TWS frame that carries ``message`` at ``server_version``."""
    encoder = _ENCODERS.get(type(message))
    if encoder is None:
        _load()
        encoder = _ENCODERS.get(type(message))
        if encoder is None:
            raise UsageError(f"{type(message).__name__} is not a TWS message the gateway encodes")
    return encoder(message, server_version)


def decode_request(fields: Sequence[str], server_version: int) -> TwsRequest:
    """One client frame's fields (message id first) as a request; an id without a decoder is
    `UnknownRequest`; a known request whose layout does not parse raises `PeerProtocolError`;
    one with a field TWS cannot read (a NaN price, an id beyond Java's int) raises
    `RequestRefused` with TWS's answer."""
    _load()
    if not fields:
        raise PeerProtocolError("empty request")
    raw = fields[0]
    # int() accepts non-ASCII digits ("٣") and signs; TWS reads plain ASCII digits only.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise PeerProtocolError(f"message id is not an integer: {raw[:20]!r}")
    msg_id = int(raw)
    decoder = _DECODERS.get(msg_id)
    if decoder is None:
        return UnknownRequest(msg_id=msg_id, fields=tuple(fields[1:]))
    cur = FieldCursor(fields)
    try:
        request = decoder(cur, server_version)
    except UnreadableField as exc:
        # Java's parser fails on the field: TWS answers 320 and ignores the request.
        text = (
            "Error reading request. Unable to parse data. java.lang.NumberFormatException: "
            f'For input string: "{exc.raw[:40]}"'
        )
        # An unreadable startApi leaves no session to go on with.
        raise RequestRefused(cur.request_id, 320, text, fatal=msg_id == _START_API) from None
    cur.finish(type(request).__name__)
    return request


def handler_for(request: TwsRequest) -> Handler | None:
    _load()
    return _HANDLERS.get(type(request))


def outbound_types() -> dict[type[TwsMessage], int]:
    """Every registered server-to-client message type and its message id."""
    _load()
    return dict(_OUT_IDS)
