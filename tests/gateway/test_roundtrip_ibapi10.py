"""Every outbound message through the decoder of IBKR's official client 10.x (pinned in
tests/requirements-ibapi10.txt), at every server version the gateway speaks, with the sent
values and no field left unread; and the teeth: one field off, or fields built for the previous
server version where a field appears, fails.

All frames go through one subprocess (`ibapi10.Ibapi10.decode`): ibapi 10.x is the same module
as the 9.81 in the dev venv. Market data is compared with what ibapi's EWrapper gets
(`samples_market.IBAPI_CALLS`, as for 9.81); the rest with the ib_async samples' own checks,
after mapping 10.x's names (commissionAndFees..., error's errorTime) onto theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ibguard.kit.gateway.handshake import MAX_SERVER_VERSION, MIN_SERVER_VERSION
from ibguard.kit.gateway.registry import encode_message
from ibguard.kit.gateway.wire_values import Fields

from . import test_roundtrip_teeth as ib_async_teeth
from .client_decoders import Call
from .ibapi10 import Decoded, Ibapi10
from .ibapi_decoder import flat
from .ibapi_shapes import as_ib_async, floats
from .samples import SAMPLES, Sample
from .samples_market import IBAPI_CALLS
from .test_roundtrip_market import HISTORY, MUTATIONS, WANT_BARS

VERSIONS = range(MIN_SERVER_VERSION, MAX_SERVER_VERSION + 1)
TEETH_VERSIONS = (MIN_SERVER_VERSION, MAX_SERVER_VERSION)
BY_NAME = {s.name: s for s in SAMPLES}

# The versions at which a field appears or disappears: the ib_async list, plus symbolSamples'
# description (ibapi 9.81 stops at 157, so only 10.x reads it through IBAPI_CALLS) and
# Order.duration at 158 (IBKR's MIN_SERVER_VER_DURATION; ib_async and ib_insync read it from 159)
VERSION_GATED = {
    **ib_async_teeth.VERSION_GATED,
    "symbolSamples": [176],
    "openOrder": [158, *ib_async_teeth.VERSION_GATED["openOrder"]],
    "openOrder-whatIf": [158, *ib_async_teeth.VERSION_GATED["openOrder-whatIf"]],
}
# One field off is tried at both ends of the range, and at 158 for the orders whose layout
# changes there.
DURATION_GATED = {"openOrder", "openOrder-whatIf"}


def _teeth() -> Iterator[tuple[Sample, str, int]]:
    for sample in SAMPLES:
        versions = TEETH_VERSIONS + ((158,) if sample.name in DURATION_GATED else ())
        for mutation in MUTATIONS:
            for version in versions:
                # a message that is only its id (or id and one field) has no inside to change
                if len(sample.build(version)) > 2 or mutation == "extra-field-at-end":
                    yield sample, mutation, version


TEETH = list(_teeth())
STALE = [(n, v) for n, vs in VERSION_GATED.items() for v in vs]


def _frames() -> Iterator[tuple[tuple[Any, ...], int, Fields]]:
    """Every frame the tests need, keyed; each with its last field cut, for the read check."""
    cases: list[tuple[tuple[Any, ...], int, Fields]] = []
    for sample in SAMPLES:
        cases += [(("sent", sample.name, v), v, sample.build(v)) for v in VERSIONS]
    for sample, mutation, v in TEETH:
        cases.append(
            (("mutated", sample.name, mutation, v), v, MUTATIONS[mutation](sample.build(v)))
        )
    for name, v in STALE:
        cases.append((("stale", name, v), v, BY_NAME[name].build(v - 1)))
    cases += [(("history", v), v, encode_message(HISTORY, v)) for v in VERSIONS]
    for key, version, fields in cases:
        yield key, version, fields
        yield ("cut", *key), version, fields[:-1]


@pytest.fixture(scope="module")
def decoded(ibapi10: Ibapi10) -> dict[tuple[Any, ...], Decoded]:
    frames = list(_frames())
    results = ibapi10.decode([(v, f) for _, v, f in frames])
    return {key: r for (key, _, _), r in zip(frames, results, strict=True)}


def _verify(name: str, version: int, got: Decoded, cut: Decoded) -> None:
    """Raises AssertionError unless 10.x read every field of the frame with the sent values."""
    assert not got.problems, f"ibapi 10.x v{version} logged: {got.problems}"
    assert got.calls, f"ibapi 10.x v{version}: no EWrapper call"
    # read = losing the last field fails, or changes what the EWrapper gets
    assert cut.problems or not cut.calls or repr(cut.calls) != repr(got.calls), (
        f"ibapi 10.x v{version}: {name} decodes without its last field: never read"
    )
    if name in IBAPI_CALLS:
        assert flat([Call(n, floats(list(a))) for n, a in got.calls]) == IBAPI_CALLS[name]
        return
    assert len(got.calls) == 1, got.calls
    BY_NAME[name].check(as_ib_async(*got.calls[0], version), version)


def test_ibapi10_speaks_every_server_version_the_gateway_does(ibapi10: Ibapi10) -> None:
    """The 10.x client offers MIN_CLIENT_VER..MAX_CLIENT_VER; the gateway answers with its own
    maximum, which must lie in that range for the client to connect at all."""
    assert ibapi10.min_client_version <= MIN_SERVER_VERSION
    assert ibapi10.max_client_version >= MAX_SERVER_VERSION


SENT = [pytest.param(s, v, id=f"{s.name}-v{v}") for s in SAMPLES for v in VERSIONS]


@pytest.mark.parametrize(("sample", "version"), SENT)
def test_ibapi10_decoder_reads_every_field_with_the_sent_values(
    decoded: dict[tuple[Any, ...], Decoded], sample: Sample, version: int
) -> None:
    key = ("sent", sample.name, version)
    _verify(sample.name, version, decoded[key], decoded[("cut", *key)])


def _fails(name: str, version: int, got: Decoded, cut: Decoded) -> bool:
    try:
        _verify(name, version, got, cut)
    except (AssertionError, ValueError, IndexError, TypeError, AttributeError):
        return True
    return False


@pytest.mark.parametrize(
    ("sample", "mutation", "version"),
    [pytest.param(s, m, v, id=f"{s.name}-{m}-v{v}") for s, m, v in TEETH],
)
def test_one_field_off_fails_the_ibapi10_roundtrip(
    decoded: dict[tuple[Any, ...], Decoded], sample: Sample, mutation: str, version: int
) -> None:
    key = ("mutated", sample.name, mutation, version)
    assert _fails(sample.name, version, decoded[key], decoded[("cut", *key)])


@pytest.mark.parametrize(("name", "version"), STALE, ids=[f"{n}-v{v}" for n, v in STALE])
def test_fields_built_for_the_previous_version_fail_the_ibapi10_roundtrip(
    decoded: dict[tuple[Any, ...], Decoded], name: str, version: int
) -> None:
    assert BY_NAME[name].build(version - 1) != BY_NAME[name].build(version)
    key = ("stale", name, version)
    assert _fails(name, version, decoded[key], decoded[("cut", *key)])


@pytest.mark.parametrize("version", VERSIONS)
def test_history_bars_reach_ibapi10_whole_and_in_order(
    decoded: dict[tuple[Any, ...], Decoded], version: int
) -> None:
    got, cut = decoded[("history", version)], decoded[("cut", "history", version)]
    assert not got.problems
    bars = [a[1] for n, a in got.calls if n == "historicalData"]
    fields = [(b.date, b.open, b.high, b.low, b.close, b.volume, b.wap, b.barCount) for b in bars]
    assert [tuple(floats(list(f))) for f in fields] == WANT_BARS
    assert got.calls[-1][0] == "historicalDataEnd"
    assert cut.problems  # the last bar's count is read
