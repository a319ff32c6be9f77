"""The broker session as the engine sees it: one small state machine, one table.

States:
- DISCONNECTED: no broker session (at start, after a restart's replay, after a loss).
- SYNCING: connected, and the reconciliation the connection started has not finished: the
  book may not match the broker yet.
- READY: connected and reconciled. Work that must not run on a stale book (a due
  flatten) waits for this state.
- HALTED, HALTED_OFFLINE: trading stopped for good (326, our clientId used elsewhere,
  wrong account), with the link up or down. Nothing is sent again; only the link moves.

Rules this table encodes:
- A connection that lost the broker's data (first connect, 1101, a new socket) starts a
  reconcile: SYNCING until it is done. A restore that kept its data (1102) with nothing
  to settle goes straight back to READY.
- A reconcile finishing while disconnected (its answers were queued before the loss)
  changes nothing: the next connection reconciles again.
- The engine halts once; a second halt is a bug in the engine, not a broker event.

A missing key is an illegal move: `advance_session` raises IllegalTransition naming both.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final

from ibguard.engine.errors import IllegalTransition

__all__ = ["SESSION_TRANSITIONS", "Session", "SessionMove", "SessionState", "advance_session"]


class SessionState(str, Enum):
    DISCONNECTED = "DISCONNECTED"
    SYNCING = "SYNCING"
    READY = "READY"
    HALTED = "HALTED"
    HALTED_OFFLINE = "HALTED_OFFLINE"


class SessionMove(str, Enum):
    """What happened to the session."""

    CONNECTED = "CONNECTED"  # connected, a reconcile started
    RESTORED = "RESTORED"  # connected again with the data kept, nothing to settle
    RECONCILED = "RECONCILED"
    LOST = "LOST"
    HALT = "HALT"


D, SY, R, H, HO = (
    SessionState.DISCONNECTED,
    SessionState.SYNCING,
    SessionState.READY,
    SessionState.HALTED,
    SessionState.HALTED_OFFLINE,
)
M = SessionMove


def _build() -> dict[tuple[SessionState, SessionMove], SessionState]:
    table: dict[tuple[SessionState, SessionMove], SessionState] = {
        # not halted
        (D, M.CONNECTED): SY,
        (D, M.RESTORED): R,
        (D, M.RECONCILED): D,
        (D, M.LOST): D,
        (SY, M.CONNECTED): SY,
        (SY, M.RESTORED): SY,  # still settling what the connection started
        (SY, M.RECONCILED): R,
        (SY, M.LOST): D,
        (R, M.CONNECTED): SY,  # 1101 without a 1100 first: the data is gone all the same
        (R, M.RESTORED): R,
        (R, M.RECONCILED): R,  # a reconcile for stale orders or an error
        (R, M.LOST): D,
        (D, M.HALT): HO,
        (SY, M.HALT): H,
        (R, M.HALT): H,
        # halted: nothing is sent again, only the link still moves
        (H, M.CONNECTED): H,
        (H, M.RESTORED): H,
        (H, M.RECONCILED): H,
        (H, M.LOST): HO,
        (HO, M.CONNECTED): H,
        (HO, M.RESTORED): H,
        (HO, M.RECONCILED): HO,
        (HO, M.LOST): HO,
    }
    return table


SESSION_TRANSITIONS: Final[Mapping[tuple[SessionState, SessionMove], SessionState]] = _build()


def advance_session(state: SessionState, move: SessionMove) -> SessionState:
    """The next state, or IllegalTransition when the table has no such move."""
    try:
        return SESSION_TRANSITIONS[(state, move)]
    except KeyError:
        raise IllegalTransition(state.value, move.value) from None


_LINK_UP: Final = frozenset({SessionState.SYNCING, SessionState.READY, SessionState.HALTED})


class Session:
    """The current session state and, once halted, why."""

    __slots__ = ("halt_reason", "halted", "state")

    def __init__(self) -> None:
        self.state = SessionState.DISCONNECTED
        self.halt_reason: str | None = None
        self.halted = False  # read on every event: a plain attribute

    def move(self, move: SessionMove) -> SessionState:
        self.state = advance_session(self.state, move)
        return self.state

    def halt(self, reason: str) -> None:
        self.move(SessionMove.HALT)
        self.halt_reason = reason
        self.halted = True

    @property
    def connected(self) -> bool:
        return self.state in _LINK_UP

    @property
    def ready(self) -> bool:
        return self.state is SessionState.READY
