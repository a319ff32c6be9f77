"""IB error codes, classified by what they mean for an order (broker truth, not guesses).

Sources: the TWS API error-code tables and how TWS behaves on the wire. Notably, both
clients mark an order Cancelled on most unknown errors; the engine does not trust that
and asks the broker instead.
"""

from __future__ import annotations

import re
from enum import Enum

__all__ = ["ErrorClass", "classify_error", "reported_state"]


class ErrorClass(str, Enum):
    CANCELLED = "CANCELLED"  # 202
    REJECTED = "REJECTED"  # 201, 203
    DUPLICATE_ID = "DUPLICATE_ID"  # 103: the order was not placed
    CANNOT_CANCEL = "CANNOT_CANCEL"  # 10147, 10148, 161
    CLIENT_ID_IN_USE = "CLIENT_ID_IN_USE"  # 326
    CONNECTIVITY_LOST = "CONNECTIVITY_LOST"  # 1100
    RESTORED_DATA_LOST = "RESTORED_DATA_LOST"  # 1101
    RESTORED = "RESTORED"  # 1102
    RATE_EXCEEDED = "RATE_EXCEEDED"  # 100
    INFORMATIONAL = "INFORMATIONAL"  # 399, 404, 10349, 2100-2199
    OTHER = "OTHER"


_BY_CODE = {
    202: ErrorClass.CANCELLED,
    201: ErrorClass.REJECTED,
    203: ErrorClass.REJECTED,
    103: ErrorClass.DUPLICATE_ID,
    10147: ErrorClass.CANNOT_CANCEL,
    10148: ErrorClass.CANNOT_CANCEL,
    161: ErrorClass.CANNOT_CANCEL,
    326: ErrorClass.CLIENT_ID_IN_USE,
    1100: ErrorClass.CONNECTIVITY_LOST,
    1101: ErrorClass.RESTORED_DATA_LOST,
    1102: ErrorClass.RESTORED,
    100: ErrorClass.RATE_EXCEEDED,
    399: ErrorClass.INFORMATIONAL,
    404: ErrorClass.INFORMATIONAL,
    10349: ErrorClass.INFORMATIONAL,
}


def classify_error(code: int) -> ErrorClass:
    if 2100 <= code <= 2199:
        return ErrorClass.INFORMATIONAL
    return _BY_CODE.get(code, ErrorClass.OTHER)


_STATE = re.compile(r"state:\s*([A-Za-z]+)")


def reported_state(message: str) -> str | None:
    """The order state a "cannot cancel" error names, e.g. 10148 "... state: Cancelled."."""
    match = _STATE.search(message)
    return match.group(1) if match else None
