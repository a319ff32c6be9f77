"""A gateway that is up but not logged in refuses every connect (OPS-03)."""

from __future__ import annotations

from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.messages import Disconnected, Message, NextValidId


def test_refused_connect_gets_no_handshake_until_accepted_again() -> None:
    broker = SimBroker()
    heard: list[Message] = []
    broker.refuse_connections("not logged in")
    session = broker.connect(7, heard.append)
    assert not session.connected
    assert heard == [Disconnected(reason="not logged in")]
    assert broker.sessions() == ()
    broker.refuse_connections(None)
    session = broker.connect(7, heard.append)
    assert session.connected
    assert any(isinstance(m, NextValidId) for m in heard)
