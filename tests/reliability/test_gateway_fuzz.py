"""Gateway fuzz: hypothesis-generated hostile input at every surface of the fake TWS gateway.

Surfaces, at least EXAMPLES inputs each:
- framing: byte streams (handshakes with odd versions, truncated and oversized frames, random
  bytes), fed in random chunk sizes to the sans-IO `FrameReader`;
- decoding: real client requests (written by ib_async's own Client) with fields replaced by
  NaN, infinities, huge and beyond-double numbers, non-ASCII digits, ids beyond Java's int,
  with fields dropped or added, and random message ids, through `decode_request`;
- the server: the same mutated requests and hostile handshakes over real sockets on
  127.0.0.1 to a running gateway, each followed by reqCurrentTime; the gateway must answer it
  (the session survives) or close that socket (a protocol error), and keep serving others.

An input may be refused (PeerProtocolError, a TWS error frame, a closed socket); it may never
crash a session (SESSION_FAILED), log a traceback, hang, or stop the gateway serving. Each
test prints its counts: inputs, refusals, crashes (0), tracebacks (0).
"""

from __future__ import annotations

import logging
import socket
import struct
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibguard.kit.gateway.errors import PeerProtocolError, RequestRefused
from ibguard.kit.gateway.framing import NEED_DATA, FrameReader, encode, encode_client_hello
from ibguard.kit.gateway.logcodes import GatewayLogCode
from ibguard.kit.gateway.registry import decode_request
from ibguard.kit.gateway.thread_host import GatewayThread
from ibguard.kit.sim import BrokerConfig, SimBroker

ib_async = pytest.importorskip("ib_async")

pytestmark = pytest.mark.untraced  # runs no engine code: nothing to trace (tests/conftest.py)

EXAMPLES = 1000
VERSION = 178
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same inputs every run: CI failures reproduce
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _client_frames(call: Callable[[Any], None], version: int = VERSION) -> list[tuple[str, ...]]:
    """The frames ib_async's Client writes for ``call(client)`` at ``version``."""
    from ib_async.client import Client

    sent: list[bytes] = []
    c = Client(SimpleNamespace())
    c.conn = SimpleNamespace(sendMsg=sent.append)
    c.connState = Client.CONNECTED
    c._serverVersion = version
    c.MaxRequests = 0
    call(c)
    reader = FrameReader(expect_hello=False)
    reader.feed(b"".join(sent))
    frames = []
    while (message := reader.next_message()) is not NEED_DATA:
        frames.append(message.fields)  # type: ignore[union-attr]
    return frames


def _seed_requests() -> list[tuple[str, ...]]:
    stock = ib_async.Stock("AAPL", "SMART", "USD")
    calls: list[Callable[[Any], None]] = [
        lambda c: c.placeOrder(11, stock, ib_async.LimitOrder("BUY", 10, 187.25, tif="GTC")),
        lambda c: c.placeOrder(12, stock, ib_async.MarketOrder("SELL", 3, whatIf=True)),
        lambda c: c.placeOrder(13, stock, ib_async.StopOrder("SELL", 3, 150.5)),
        lambda c: c.cancelOrder(11, ""),
        lambda c: c.reqExecutions(5, ib_async.ExecutionFilter(clientId=1)),
        lambda c: c.reqContractDetails(6, stock),
        lambda c: c.reqAccountSummary(7, "All", "NetLiquidation"),
        lambda c: c.reqAccountUpdatesMulti(8, "DU1234567", "", False),
        lambda c: c.reqIds(1),
        lambda c: c.reqAllOpenOrders(),
        lambda c: c.reqCompletedOrders(False),
        lambda c: c.reqPositions(),
        lambda c: c.reqMktData(9, stock, "", False, False, []),
    ]
    return [frame for call in calls for frame in _client_frames(call)]


SEEDS = _seed_requests()

HOSTILE_VALUES = [
    "nan",
    "NaN",
    "Infinite",
    "-Infinity",
    "inf",
    "1e400",
    "-1e400",
    "1.7976931348623157E308",
    "1.8E308",
    "9" * 5000,
    "\u0663",  # ARABIC-INDIC DIGIT THREE
    "\uff13",  # FULLWIDTH DIGIT THREE
    "-1",
    "-0",
    str(2**31),
    str(2**63),
    str(-(2**63)),
    "",
    " 1",
    "1_000",
    "0x10",
    "1e-400",
    "0.000000000000000000000000000001",
]
_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"), max_size=20)
_value = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    _text,
)


@st.composite
def mutated_requests(draw: st.DrawFn) -> tuple[str, ...]:
    """A real request with one to three fields replaced, fields cut off or added, or a
    random message id."""
    fields = list(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["replace", "replace", "replace", "cut", "add", "id"]))
        if kind == "replace" and len(fields) > 1:
            fields[draw(st.integers(1, len(fields) - 1))] = draw(_value)
        elif kind == "cut" and len(fields) > 1:
            del fields[draw(st.integers(1, len(fields) - 1)) :]
        elif kind == "add":
            fields.append(draw(_value))
        elif kind == "id":
            fields[0] = draw(
                st.one_of(st.sampled_from(HOSTILE_VALUES), st.integers(0, 200).map(str))
            )
    return tuple(fields)


_hello_versions = st.one_of(
    st.sampled_from(
        [
            "v157..178",
            "v100..178",
            "v157..999",
            "v178..157",
            "v\u0663..178",
            "v",
            "v..",
            "v157..",
            "v" + "9" * 5000 + "..178",
            "x157..178",
            "v157..178 opt",
        ]
    ),
    _text.map(lambda t: "v" + t),
)


def _hello(text: str) -> bytes:
    payload = text.encode("utf-8")
    return b"API\0" + struct.pack(">I", len(payload)) + payload


@st.composite
def byte_streams(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A stream a client might open with, and the chunk sizes it arrives in."""
    kind = draw(st.sampled_from(["valid", "hello", "truncated", "oversized", "random"]))
    body = b"".join(encode(f) for f in draw(st.lists(mutated_requests(), max_size=3)))
    if kind == "valid":
        stream = encode_client_hello(157, 178) + body
    elif kind == "hello":
        stream = _hello(draw(_hello_versions)) + body
    elif kind == "truncated":
        full = encode_client_hello(157, 178) + body
        stream = full[: draw(st.integers(0, len(full)))]
    elif kind == "oversized":
        length = draw(st.integers(1 << 20, (1 << 32) - 1))
        stream = encode_client_hello(157, 178) + struct.pack(">I", length) + b"71\0"
    else:
        stream = draw(st.binary(max_size=200))
    chunks = draw(st.lists(st.integers(1, 64), max_size=20))
    return stream, chunks


def _report(surface: str, counts: Counter[str]) -> None:
    print(
        f"\ngateway fuzz [{surface}]: inputs {counts['inputs']}, refused {counts['refused']}, "
        f"crashes {counts['crashes']}, tracebacks {counts['tracebacks']}"
    )


def test_framing_reads_or_refuses_any_byte_stream() -> None:
    counts: Counter[str] = Counter()

    @FUZZ
    @given(byte_streams())
    def feed(case: tuple[bytes, list[int]]) -> None:
        stream, chunks = case
        counts["inputs"] += 1
        reader = FrameReader(expect_hello=True)
        at = 0
        try:
            for size in [*chunks, len(stream)]:
                reader.feed(stream[at : at + size])
                at += size
                while reader.next_message() is not NEED_DATA:
                    pass
        except PeerProtocolError:
            counts["refused"] += 1
        except Exception:
            counts["crashes"] += 1
            counts["tracebacks"] += 1
            raise

    feed()
    _report("framing", counts)
    assert counts["inputs"] >= EXAMPLES
    assert counts["crashes"] == counts["tracebacks"] == 0


def test_decoding_answers_every_mutated_request_with_a_request_or_a_refusal() -> None:
    counts: Counter[str] = Counter()

    @FUZZ
    @given(mutated_requests(), st.sampled_from([157, 163, 170, 176, 178]))
    def decode(fields: tuple[str, ...], version: int) -> None:
        counts["inputs"] += 1
        try:
            decode_request(fields, version)
        except (PeerProtocolError, RequestRefused):
            counts["refused"] += 1
        except Exception:
            counts["crashes"] += 1
            counts["tracebacks"] += 1
            raise

    decode()
    _report("decoding", counts)
    assert counts["inputs"] >= EXAMPLES
    assert counts["crashes"] == counts["tracebacks"] == 0


class _Collect(logging.Handler):
    """Session failures and tracebacks logged anywhere (gateway or asyncio)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.failures: list[logging.LogRecord] = []
        self.tracebacks: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "code", None) is GatewayLogCode.SESSION_FAILED:
            self.failures.append(record)
        if record.exc_info:
            self.tracebacks.append(record)


@contextmanager
def _collected() -> Iterator[_Collect]:
    handler = _Collect()
    loggers = [logging.getLogger(n) for n in ("ibguard.kit.gateway", "asyncio")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def _exchange(port: int, data: bytes) -> str:
    """Send ``data`` then reqCurrentTime; read until its answer ("answered") or the server
    closes ("closed"). A silent gateway is a hang, reported as such."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(10)  # a failure detector only: an answer or a close comes in ms
        sock.sendall(data + encode(("49", "1")))
        reader = FrameReader(expect_hello=False)
        try:
            while True:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    return "closed"
                reader.feed(chunk)
                while (message := reader.next_message()) is not NEED_DATA:
                    if message.fields[0] == "49":  # type: ignore[union-attr]
                        return "answered"
        except ConnectionResetError:
            return "closed"
        except TimeoutError:
            return "hang"


def test_the_server_survives_hostile_requests_over_real_sockets() -> None:
    counts: Counter[str] = Counter()
    broker = SimBroker(BrokerConfig(rate_limit_per_second=10**9, farm_status_messages=False))
    client_ids = iter(range(1, 10**6))

    with _collected() as seen, GatewayThread(broker) as gw:

        @FUZZ
        @given(st.lists(mutated_requests(), min_size=1, max_size=3), _hello_versions)
        def serve(requests: list[tuple[str, ...]], hello: str) -> None:
            counts["inputs"] += 1
            opening = _hello(hello) if counts["inputs"] % 10 == 0 else encode_client_hello(157, 178)
            start = encode(("71", "2", str(next(client_ids)), ""))
            outcome = _exchange(gw.port, opening + start + b"".join(encode(r) for r in requests))
            counts[outcome] += 1
            if outcome == "closed":
                counts["refused"] += 1
            assert outcome != "hang", f"gateway silent after {requests!r}"

        serve()
        # still serving: a plain client starts and is answered
        assert _exchange(gw.port, encode_client_hello(157, 178) + encode(("71", "2", "0", ""))) == (
            "answered"
        )
        counts["crashes"] = len(seen.failures)
        counts["tracebacks"] = len(seen.tracebacks)
    _report("server over sockets", counts)
    assert counts["inputs"] >= EXAMPLES
    assert counts["hang"] == 0
    assert counts["crashes"] == counts["tracebacks"] == 0, [
        r.getMessage() for r in seen.failures + seen.tracebacks
    ][:5]
