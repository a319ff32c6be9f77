"""The order state machine: one table, one place for every odd case.

Rules this table encodes (see DESIGN.md "Order FSM"):
- NEW -> SUBMITTED when placeOrder is sent; SUBMITTED means sent but unacknowledged.
- A SUBMITTED order whose fate is unknown (socket died, 103 duplicate id, no broker record
  at reconcile) goes back to NEW: it has no confirmed broker ids and may be resubmitted.
- First sighting of a broker order (recovery at reconcile, orphan fill) starts from NEW
  and may land in any state.
- Terminal states (FILLED, CANCELED, REJECTED) absorb everything except fills: a fill after
  CANCELED is real (the broker executed before the cancel) and may complete the order.
- A refused cancel goes back to the live state: WORKING, or PARTIALLY_FILLED when filled > 0.
- Fills are classified PARTIAL or FINAL (filled >= quantity) before the lookup, and refused
  cancels by whether anything filled, so every target here is static.

A missing key is an illegal move: `advance` raises IllegalTransition naming both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final

from ibguard.engine.errors import IllegalTransition
from ibguard.engine.model import Status

__all__ = [
    "BY_KIND",
    "TRANSITIONS",
    "Kind",
    "advance",
    "broker_status_moves",
]


class Kind(str, Enum):
    """What happened to an order, as the lifecycle sees it."""

    SEND = "SEND"
    ACK = "ACK"
    PARTIAL_FILL = "PARTIAL_FILL"
    FINAL_FILL = "FINAL_FILL"
    CANCEL_REQUEST = "CANCEL_REQUEST"
    CANCELED = "CANCELED"
    CANCEL_REFUSED_UNFILLED = "CANCEL_REFUSED_UNFILLED"
    CANCEL_REFUSED_PARTIAL = "CANCEL_REFUSED_PARTIAL"
    REJECT = "REJECT"
    NOT_PLACED = "NOT_PLACED"
    GONE = "GONE"  # acknowledged once, unknown to the broker now (reconcile: broker wins)


S = Status
K = Kind
_LIVE = (S.SUBMITTED, S.WORKING, S.PARTIALLY_FILLED, S.CANCEL_PENDING)
_TERMINAL = (S.FILLED, S.CANCELED, S.REJECTED)


def _build() -> dict[tuple[Status, Kind], Status]:
    table: dict[tuple[Status, Kind], Status] = {
        (S.NEW, K.SEND): S.SUBMITTED,
        # acknowledgements (openOrder / orderStatus Submitted, PreSubmitted, ...)
        (S.NEW, K.ACK): S.WORKING,  # recovery: first sighting of a live broker order
        (S.SUBMITTED, K.ACK): S.WORKING,
        (S.WORKING, K.ACK): S.WORKING,
        (S.PARTIALLY_FILLED, K.ACK): S.PARTIALLY_FILLED,
        (S.CANCEL_PENDING, K.ACK): S.CANCEL_PENDING,
        # cancel requests (a NEW order never reached the broker: cancelled locally)
        (S.NEW, K.CANCEL_REQUEST): S.CANCELED,
        (S.SUBMITTED, K.CANCEL_REQUEST): S.CANCEL_PENDING,
        (S.WORKING, K.CANCEL_REQUEST): S.CANCEL_PENDING,
        (S.PARTIALLY_FILLED, K.CANCEL_REQUEST): S.CANCEL_PENDING,
        (S.CANCEL_PENDING, K.CANCEL_REQUEST): S.CANCEL_PENDING,
        # refused cancel: back to the live state
        (S.CANCEL_PENDING, K.CANCEL_REFUSED_UNFILLED): S.WORKING,
        (S.CANCEL_PENDING, K.CANCEL_REFUSED_PARTIAL): S.PARTIALLY_FILLED,
        (S.WORKING, K.CANCEL_REFUSED_UNFILLED): S.WORKING,
        (S.PARTIALLY_FILLED, K.CANCEL_REFUSED_PARTIAL): S.PARTIALLY_FILLED,
        # not placed after all: back to NEW, no broker ids
        (S.SUBMITTED, K.NOT_PLACED): S.NEW,
        (S.NEW, K.NOT_PLACED): S.NEW,
        # rejections (201/203, Inactive before any fill)
        (S.NEW, K.REJECT): S.REJECTED,
        (S.SUBMITTED, K.REJECT): S.REJECTED,
        (S.WORKING, K.REJECT): S.REJECTED,
        (S.CANCEL_PENDING, K.REJECT): S.CANCELED,
        (S.PARTIALLY_FILLED, K.REJECT): S.CANCELED,  # the rest is dead, the fills stand
    }
    for status in (S.NEW, *_LIVE):
        table[(status, K.PARTIAL_FILL)] = (
            S.CANCEL_PENDING if status is S.CANCEL_PENDING else S.PARTIALLY_FILLED
        )
        table[(status, K.FINAL_FILL)] = S.FILLED
        table[(status, K.CANCELED)] = S.CANCELED
    for status in _LIVE:
        table[(status, K.GONE)] = S.CANCELED
    # terminal states absorb everything except fills
    for status in _TERMINAL:
        for kind in Kind:
            table[(status, kind)] = status
    table[(S.CANCELED, K.FINAL_FILL)] = S.FILLED  # late fill completes the order
    table[(S.REJECTED, K.FINAL_FILL)] = S.FILLED  # the broker executed it after all
    return table


TRANSITIONS: Final[Mapping[tuple[Status, Kind], Status]] = _build()

# the same table by kind, then status: the per-event paths look a move up without
# building a key (`advance` stays the one place a missing move is an error)
BY_KIND: Final[Mapping[Kind, Mapping[Status, Status]]] = {
    kind: {status: to for (status, k), to in TRANSITIONS.items() if k is kind} for kind in Kind
}


def advance(status: Status, kind: Kind) -> Status:
    """The next status, or IllegalTransition when the table has no such move."""
    try:
        return TRANSITIONS[(status, kind)]
    except KeyError:
        raise IllegalTransition(status.value, kind.value) from None


# IB's status strings that move an order; any other status moves nothing
_BROKER_STATUS: Final[Mapping[str, Kind]] = {
    "PendingSubmit": Kind.ACK,
    "ApiPending": Kind.ACK,
    "PreSubmitted": Kind.ACK,
    "Submitted": Kind.ACK,
    "PendingCancel": Kind.ACK,  # still live at the broker while it works on a cancel
    "ApiCancelled": Kind.CANCELED,
    "Cancelled": Kind.CANCELED,
    "Inactive": Kind.REJECT,
    # the broker's Filled ends the order (broker wins); the quantity filled is still counted
    # from executions only, which may arrive after this status
    "Filled": Kind.FINAL_FILL,
}


def broker_status_moves() -> dict[str, tuple[Kind, Mapping[Status, Status]]]:
    """IB's status string -> its kind and that kind's moves, for statuses that move."""
    return {status: (kind, BY_KIND[kind]) for status, kind in _BROKER_STATUS.items()}
