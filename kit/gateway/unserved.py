"""Requests the paper TWS does not serve: their names, and where their request id sits.

TWS serves every request of the API; this gateway serves a subset (`registry`), and a bot
must not wait forever for an answer that never comes. A request the gateway does not serve is
answered with ibguard's documented error (321, "Error validating request", naming the request:
docs/tws-order-errors.md) for its request id, so the client's pending call fails at once, and
logged at WARNING with its name. Cancels of such requests have nothing to cancel: logged only.
"""

from __future__ import annotations

from typing import Final

__all__ = ["UNSERVED_CODE", "UnservedRequest", "describe", "refusal_text"]

UNSERVED_CODE: Final = 321

# message id -> (IB's request name, index of its request id in the frame, or None)
_TABLE: Final[dict[int, tuple[str, int | None]]] = {
    10: ("reqMktDepth", 2),
    11: ("cancelMktDepth", 2),
    12: ("reqNewsBulletins", None),
    13: ("cancelNewsBulletins", None),
    14: ("setServerLogLevel", None),
    18: ("requestFA", None),
    19: ("replaceFA", None),
    21: ("exerciseOptions", 2),
    22: ("reqScannerSubscription", None),
    23: ("cancelScannerSubscription", None),
    24: ("reqScannerParameters", None),
    52: ("reqFundamentalData", 2),
    53: ("cancelFundamentalData", 2),
    54: ("calculateImpliedVolatility", 2),
    55: ("calculateOptionPrice", 2),
    56: ("cancelCalculateImpliedVolatility", 2),
    57: ("cancelCalculateOptionPrice", 2),
    67: ("queryDisplayGroups", 2),
    74: ("reqPositionsMulti", 2),
    75: ("cancelPositionsMulti", 2),
    79: ("reqSoftDollarTiers", 1),
    80: ("reqFamilyCodes", None),
    82: ("reqMktDepthExchanges", None),
    83: ("reqSmartComponents", 1),
    84: ("reqNewsArticle", 1),
    85: ("reqNewsProviders", None),
    86: ("reqHistoricalNews", 1),
    88: ("reqHistogramData", 1),
    89: ("cancelHistogramData", 1),
    100: ("reqWshMetaData", 1),
    101: ("cancelWshMetaData", 1),
    102: ("reqWshEventData", 1),
    103: ("cancelWshEventData", 1),
    104: ("reqUserInfo", 1),
}


class UnservedRequest:
    """What the gateway knows of one unserved request."""

    __slots__ = ("msg_id", "name", "req_id")

    def __init__(self, msg_id: int, name: str, req_id: int) -> None:
        self.msg_id = msg_id
        self.name = name
        self.req_id = req_id

    @property
    def answered(self) -> bool:
        """Cancels and settings get no answer (there is nothing to fail)."""
        return not self.name.startswith(("cancel", "set"))


def describe(msg_id: int, fields: tuple[str, ...]) -> UnservedRequest:
    """``fields``: the frame after its message id."""
    name, at = _TABLE.get(msg_id, (f"message {msg_id}", None))
    req_id = -1
    if at is not None and at - 1 < len(fields):
        raw = fields[at - 1]
        if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 10:
            req_id = int(raw)
    return UnservedRequest(msg_id, name, req_id)


def refusal_text(request: UnservedRequest) -> str:
    return (
        f"Error validating request:-'{request.msg_id}' : cause - "
        f"{request.name} is not served by the ibguard paper TWS"
    )
