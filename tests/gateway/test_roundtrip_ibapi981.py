"""The session, order, execution, account and contract messages through the official client's
9.81 decoder (PyPI `ibapi` 9.81.1.post1) at server version 157, its only one, with the sent
values and no field left unread, and the teeth: one field off fails. Market data and history
are in test_roundtrip_market; 10.x is in test_roundtrip_ibapi10."""

from __future__ import annotations

import pytest
from ibguard.kit.gateway.wire_values import Fields

from .ibapi_decoder import IBAPI_VERSIONS, decode_ibapi
from .ibapi_shapes import as_ib_async
from .samples import SAMPLES, Sample
from .samples_market import IBAPI_CALLS
from .test_roundtrip_market import MUTATIONS

pytest.importorskip("ibapi")

(VERSION,) = IBAPI_VERSIONS
OTHER_SAMPLES = [s for s in SAMPLES if s.name not in IBAPI_CALLS]


def _roundtrip(sample: Sample, fields: Fields) -> None:
    calls = decode_ibapi(fields, VERSION)  # no problem logged, the last field read
    assert len(calls) == 1, calls
    sample.check(as_ib_async(calls[0].name, calls[0].args, VERSION), VERSION)


@pytest.mark.parametrize("sample", OTHER_SAMPLES, ids=lambda s: s.name)
def test_ibapi981_decoder_reads_every_field_with_the_sent_values(sample: Sample) -> None:
    _roundtrip(sample, sample.build(VERSION))


TEETH = [
    pytest.param(s, m, id=f"{s.name}-{m}")
    for s in OTHER_SAMPLES
    for m in MUTATIONS
    if len(s.build(VERSION)) > 2 or m == "extra-field-at-end"
]


@pytest.mark.parametrize(("sample", "mutation"), TEETH)
def test_one_field_off_fails_the_ibapi981_roundtrip(sample: Sample, mutation: str) -> None:
    with pytest.raises((AssertionError, ValueError, IndexError, TypeError, AttributeError)):
        _roundtrip(sample, MUTATIONS[mutation](sample.build(VERSION)))
