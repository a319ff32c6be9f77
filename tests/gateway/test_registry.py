"""The message tables: every outbound message the gateway can encode has a round-trip sample,
each message type and message id is registered once, and every registered request is served."""

from __future__ import annotations

import pytest
from ibguard.errors import InternalError, UsageError
from ibguard.kit.gateway import registry
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.registry import decodes, encodes, outbound_types
from ibguard.kit.gateway.wire_values import FieldCursor, Fields
from ibguard.kit.sim import messages as m

from .samples import SAMPLES


def test_every_registered_outbound_message_has_a_roundtrip_sample() -> None:
    sampled = {s.message_type for s in SAMPLES}
    missing = sorted(t.__name__ for t in outbound_types() if t not in sampled)
    assert missing == []


def test_every_sample_frame_starts_with_its_registered_message_id() -> None:
    ids = outbound_types()
    for sample in SAMPLES:
        assert int(sample.build(178)[0]) == ids[sample.message_type], sample.name


def test_a_message_type_registered_twice_is_refused() -> None:
    def again(msg: m.NextValidId, server_version: int) -> Fields:
        return ()

    outbound_types()  # tables loaded
    with pytest.raises(InternalError, match="NextValidId"):
        encodes(m.NextValidId, Out.NEXT_VALID_ID)(again)


def test_a_message_id_registered_twice_is_refused() -> None:
    def again(cur: FieldCursor, server_version: int) -> registry.TwsRequest:
        return registry.UnknownRequest(msg_id=3, fields=())

    outbound_types()
    with pytest.raises(InternalError, match="message id 3"):
        decodes(3)(again)


def test_an_unregistered_message_type_is_a_usage_error_naming_it() -> None:
    with pytest.raises(UsageError, match="Disconnected"):
        registry.encode_message(m.Disconnected(), 178)  # type: ignore[arg-type]
