"""Market-data and history messages through the official ibapi client's decoder (ib_async and
ib_insync read them in test_outbound_roundtrip via `samples.SAMPLES`), history bars through
all three, and the check's teeth for ibapi: one field off fails."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from ibguard.kit.gateway.registry import encode_message
from ibguard.kit.gateway.wire_values import Fields
from ibguard.kit.sim import market_messages as mm

from .client_decoders import CLIENT_VERSION_PAIRS, decode_loose, pair_id
from .ibapi_decoder import IBAPI_VERSIONS, decode_ibapi, flat
from .samples_market import BAR, IBAPI_CALLS, MARKET_MESSAGES

pytest.importorskip("ibapi")

MUTATIONS: dict[str, Callable[[Fields], Fields]] = {
    "extra-field-at-end": lambda f: (*f, "7"),
    "extra-field-after-id": lambda f: (f[0], "0", *f[1:]),
    "last-field-dropped": lambda f: f[:-1],
    "second-field-dropped": lambda f: (f[0], *f[2:]),
}


def _ibapi_ok(name: str, fields: Fields, version: int) -> bool:
    try:
        return flat(decode_ibapi(fields, version)) == IBAPI_CALLS[name]
    except AssertionError:
        return False


@pytest.mark.parametrize("version", IBAPI_VERSIONS)
@pytest.mark.parametrize("name", list(MARKET_MESSAGES))
def test_ibapi_decoder_reads_every_field_with_the_sent_values(name: str, version: int) -> None:
    fields = encode_message(MARKET_MESSAGES[name], version)
    assert flat(decode_ibapi(fields, version)) == IBAPI_CALLS[name]


# A two-field message (the option-parameter end) has nothing inside to drop or insert after.
IBAPI_MUTATIONS = [
    pytest.param(name, mutation, id=f"{name}-{mutation}")
    for name, message in MARKET_MESSAGES.items()
    for mutation in MUTATIONS
    if len(encode_message(message, 157)) > 2 or mutation == "extra-field-at-end"
]


@pytest.mark.parametrize(("name", "mutation"), IBAPI_MUTATIONS)
def test_one_field_off_fails_the_ibapi_roundtrip(name: str, mutation: str) -> None:
    fields = encode_message(MARKET_MESSAGES[name], 157)
    assert _ibapi_ok(name, fields, 157)
    assert not _ibapi_ok(name, MUTATIONS[mutation](fields), 157)


HISTORY = mm.HistoricalData(
    reqId=9,
    startDateStr="20231201 09:30:00 US/Eastern",
    endDateStr="20240102 16:00:00 US/Eastern",
    bars=(
        BAR,
        mm.HistoricalBar(
            date="20240102 10:30:00 US/Eastern",
            open=Decimal("186.1"),
            high=Decimal("186.9"),
            low=Decimal("185.9"),
            close=Decimal("186.5"),
            volume=Decimal(-1),
            wap=Decimal(-1),
            barCount=-1,
        ),
    ),
)
WANT_BARS = [
    ("20240102 09:30:00 US/Eastern", 185.6, 186.25, 185.01, 186.1, 120300.0, 185.7731, 1203),
    ("20240102 10:30:00 US/Eastern", 186.1, 186.9, 185.9, 186.5, -1.0, -1.0, -1),
]


@pytest.mark.parametrize("pair", CLIENT_VERSION_PAIRS, ids=pair_id)
def test_history_bars_reach_the_client_whole_and_in_order(pair: tuple[str, int]) -> None:
    client, version = pair
    fields = encode_message(HISTORY, version)
    calls, problems = decode_loose(client, version, fields)
    assert not problems
    bars = [c.args[1] for c in calls if c.name == "historicalData"]
    got = [(b.date, b.open, b.high, b.low, b.close, b.volume, b.average, b.barCount) for b in bars]
    assert got == WANT_BARS
    assert calls[-1].name == "historicalDataEnd"
    _, cut_problems = decode_loose(client, version, fields[:-1])
    assert cut_problems  # the last bar count is read


def test_history_bars_reach_ibapi_whole_and_in_order() -> None:
    calls = decode_ibapi(encode_message(HISTORY, 157))
    bars = [c.args[1] for c in calls if c.name == "historicalData"]
    got = [(b.date, b.open, b.high, b.low, b.close, b.volume, b.average, b.barCount) for b in bars]
    assert got == [(d, o, h, lo, c, int(v), a, n) for d, o, h, lo, c, v, a, n in WANT_BARS]
    assert calls[-1].name == "historicalDataEnd"
