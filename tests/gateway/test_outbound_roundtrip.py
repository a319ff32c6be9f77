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
