"""The broker session's state machine: transitions are data, a miss is one typed error."""

from __future__ import annotations

import pytest
from ibguard.engine import IllegalTransition
from ibguard.engine.events import (
    BrokerError,
    CompletedOrdersSnapshot,
    ConnectionLost,
    ConnectionRestored,
    ExecutionsSnapshot,
    OpenOrdersSnapshot,
)
from ibguard.engine.session import (
    SESSION_TRANSITIONS,
    Session,
    SessionMove,
    SessionState,
    advance_session,
)

from tests.engine.scenario import Scenario


def test_halting_twice_is_an_illegal_move_named_with_state_and_move() -> None:
    session = Session()
    session.halt("CONNECTION_STOLEN")
    with pytest.raises(IllegalTransition) as caught:
        session.halt("ACCOUNT_MISMATCH")
    assert caught.value.status == "HALTED_OFFLINE"
    assert caught.value.kind == "HALT"
    assert session.halt_reason == "CONNECTION_STOLEN"


def test_every_state_but_a_halted_one_has_a_move_for_every_event() -> None:
    for state in SessionState:
        for move in SessionMove:
            halted_again = move is SessionMove.HALT and state.value.startswith("HALTED")
            assert ((state, move) in SESSION_TRANSITIONS) is not halted_again


def test_a_halted_session_only_follows_the_link() -> None:
    state = advance_session(SessionState.READY, SessionMove.HALT)
    assert state is SessionState.HALTED
    state = advance_session(state, SessionMove.LOST)
    assert state is SessionState.HALTED_OFFLINE
    assert advance_session(state, SessionMove.CONNECTED) is SessionState.HALTED


def test_connecting_syncs_until_the_reconcile_is_done() -> None:
    sc = Scenario(connect=False)
    assert sc.engine.session_state is SessionState.DISCONNECTED
    sc.feed(ConnectionRestored(data_lost=True, client_id=7), OpenOrdersSnapshot())
    assert sc.engine.session_state is SessionState.SYNCING
    assert sc.engine.connected
    sc.feed(CompletedOrdersSnapshot(), ExecutionsSnapshot())
    assert sc.engine.session_state is SessionState.READY


def test_a_restore_that_kept_its_data_is_ready_at_once(sc: Scenario) -> None:
    sc.feed(BrokerError(req_id=-1, code=1100, message="lost"))
    assert sc.engine.session_state is SessionState.DISCONNECTED
    sc.feed(BrokerError(req_id=-1, code=1102, message="restored, data kept"))
    assert sc.engine.session_state is SessionState.READY


def test_a_halted_engine_still_reports_its_link(sc: Scenario) -> None:
    sc.feed(BrokerError(req_id=-1, code=326, message="client id in use"))
    assert sc.engine.halted
    assert sc.engine.connected
    sc.feed(ConnectionLost(reason="dropped"))
    assert not sc.engine.connected
    assert sc.engine.session_state is SessionState.HALTED_OFFLINE
