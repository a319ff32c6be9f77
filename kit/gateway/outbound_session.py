"""Server-to-client messages of the session itself: ids, accounts, clock and errors.

Each encoder takes one message of `ibguard.kit.sim.messages` and the negotiated server version
and returns the frame's fields (message id first), registered with `registry.encodes`.
"""

from __future__ import annotations

from ibguard.errors import UsageError
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.registry import encodes
from ibguard.kit.gateway.wire_values import Fields, text
from ibguard.kit.sim.messages import CurrentTime, Error, ManagedAccounts, NextValidId

__all__ = [
    "NO_REQUEST_ID",
    "encode_current_time",
    "encode_error",
    "encode_managed_accounts",
    "encode_next_valid_id",
]

# No request id: IB's value for errors that belong to no request.
NO_REQUEST_ID = -1


@encodes(NextValidId, Out.NEXT_VALID_ID)
def encode_next_valid_id(m: NextValidId, server_version: int) -> Fields:
    return (text(Out.NEXT_VALID_ID), "1", text(m.orderId))


@encodes(ManagedAccounts, Out.MANAGED_ACCOUNTS)
def encode_managed_accounts(m: ManagedAccounts, server_version: int) -> Fields:
    # The clients wait for a non-empty list before reporting connected.
    accounts = m.accountsList.split(",")
    if not m.accountsList or any(not a for a in accounts):
        raise UsageError(f"managed accounts must be non-empty names: {m.accountsList!r}")
    return (text(Out.MANAGED_ACCOUNTS), "1", m.accountsList)


@encodes(CurrentTime, Out.CURRENT_TIME)
def encode_current_time(m: CurrentTime, server_version: int) -> Fields:
    return (text(Out.CURRENT_TIME), "1", text(int(m.time.timestamp())))


@encodes(Error, Out.ERROR)
def encode_error(m: Error, server_version: int) -> Fields:
    """error(4); ``reqId`` is the orderId or request id, -1 for none. advancedOrderRejectJson
    exists on the wire from server version 166 and is dropped below it."""
    fields = (text(Out.ERROR), "2", text(m.reqId), text(m.errorCode), m.errorString)
    if server_version >= 166:
        return (*fields, m.advancedOrderRejectJson)
    return fields
