"""Server-to-client messages of the session itself: ids, accounts, clock and errors.

Each function returns the message's fields (message id first) ready for `framing.encode`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ibguard.errors import UsageError
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.wire_values import Fields, text

__all__ = [
    "encode_current_time",
    "encode_error",
    "encode_managed_accounts",
    "encode_next_valid_id",
]

# No request id: IB's value for errors that belong to no request.
NO_REQUEST_ID = -1


def encode_next_valid_id(order_id: int) -> Fields:
    return (text(Out.NEXT_VALID_ID), "1", text(order_id))


def encode_managed_accounts(accounts: Sequence[str]) -> Fields:
    # The clients wait for a non-empty list before reporting connected.
    if not accounts or any(not a or "," in a for a in accounts):
        raise UsageError(f"managed accounts must be non-empty names without commas: {accounts}")
    return (text(Out.MANAGED_ACCOUNTS), "1", ",".join(accounts))


def encode_current_time(epoch_seconds: int) -> Fields:
    return (text(Out.CURRENT_TIME), "1", text(epoch_seconds))


def encode_error(
    *,
    server_version: int,
    req_id: int,
    code: int,
    message: str,
    advanced_order_reject_json: str = "",
) -> Fields:
    """error(4); ``req_id`` is the orderId or request id, -1 for none."""
    fields = (text(Out.ERROR), "2", text(req_id), text(code), message)
    if server_version >= 166:
        return (*fields, advanced_order_reject_json)
    if advanced_order_reject_json:
        raise UsageError("advancedOrderRejectJson needs server version 166 or later")
    return fields
