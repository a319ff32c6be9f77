"""Every outbound encoder, decoded by ib_async's and ib_insync's own Decoder at every server
version each negotiates, with the right values and no field left unread."""

from __future__ import annotations

import pytest

from .client_decoders import CLIENT_VERSION_PAIRS, decode_strict, pair_id
from .samples import SAMPLES, Sample

pytest.importorskip("ib_async")
pytest.importorskip("ib_insync")


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
@pytest.mark.parametrize("pair", CLIENT_VERSION_PAIRS, ids=pair_id)
def test_client_decoder_reads_every_field_with_the_sent_values(
    pair: tuple[str, int], sample: Sample
) -> None:
    client, version = pair
    fields = sample.build(version)
    call = decode_strict(client, version, fields)
    sample.check(call, version)


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
