"""Every outbound encoder, decoded by ib_async's and ib_insync's own Decoder at every server
version each negotiates, with the right values and no field left unread."""

from __future__ import annotations

import pytest

from .client_decoders import CLIENT_VERSION_PAIRS, decode_loose, decode_strict, pair_id
from .samples import SAMPLES, Sample

pytest.importorskip("ib_async")
pytest.importorskip("ib_insync")


# Order.duration is on the wire from server version 158 (IBKR's MIN_SERVER_VER_DURATION, as
# TWS sends it); these two decoders read it only from 159: at 158 it is their one unread field
# (the test after this one).
DURATION_UNREAD = {"openOrder", "openOrder-whatIf"}
WHOLE = [
    pytest.param(pair, sample, id=f"{pair_id(pair)}-{sample.name}")
    for pair in CLIENT_VERSION_PAIRS
    for sample in SAMPLES
    if not (pair[1] == 158 and sample.name in DURATION_UNREAD)
]


@pytest.mark.parametrize(("pair", "sample"), WHOLE)
def test_client_decoder_reads_every_field_with_the_sent_values(
    pair: tuple[str, int], sample: Sample
) -> None:
    client, version = pair
    fields = sample.build(version)
    call = decode_strict(client, version, fields)
    sample.check(call, version)


@pytest.mark.parametrize("name", sorted(DURATION_UNREAD))
@pytest.mark.parametrize("client", ["ib_async", "ib_insync"])
def test_at_158_the_community_clients_read_every_value_but_leave_duration_unread(
    client: str, name: str
) -> None:
    """Their bug, harmless at 158: duration is the last field there, so nothing shifts; the
    order reads as sent and keeps the client's default duration. Neither negotiates 158 with
    the gateway unless it is capped there (they offer up to 178 / 176)."""
    sample = next(s for s in SAMPLES if s.name == name)
    sent = sample.build(158)
    assert sent[:-1] == sample.build(157)  # 158 adds exactly Order.duration, at the end
    calls, problems = decode_loose(client, 158, sent)
    assert not problems
    (call,) = calls
    sample.check(call, 158)
    without_duration, _ = decode_loose(client, 158, sent[:-1])
    assert repr(without_duration) == repr(calls)  # the field is never read


# The orders/account/session vocabulary; market data has its own ibapi checks
# (test_roundtrip_market).
CORE = [s for s in SAMPLES if s.message_type.__module__ == "ibguard.kit.sim.messages"]


@pytest.mark.parametrize("sample", CORE, ids=lambda s: s.name)
def test_the_official_client_decodes_every_core_message_whole(sample: Sample) -> None:
    """ibapi 9.81 (server version 157): one wrapper call, nothing logged, no field unread;
    the sample's values are checked through ib_async and ib_insync above."""
    pytest.importorskip("ibapi")
    from .ibapi_decoder import IBAPI_VERSIONS, decode_ibapi, decode_ibapi_loose

    for version in IBAPI_VERSIONS:
        fields = sample.build(version)
        calls = decode_ibapi(fields, version)
        assert len(calls) == 1
        if len(fields) > 2:  # a field missing inside the message is caught
            cut, problems = decode_ibapi_loose((fields[0], *fields[2:]), version)
            assert problems or cut != calls
