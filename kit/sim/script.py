"""Armed faults: what the simulated broker does differently the next time a request matches.

Owns the one-shot (or n-shot) rules a case arms before acting: reject the next order,
drop the connection after the next placeOrder, fill the next order in these pieces,
refuse the next cancel because the fill races it, deliver a late fill after the cancel.
Rules are plain frozen data so a case catalog can hold them; `Script` keeps how many
uses each has left. The broker consults the script inside request handling, so the same
script drives the in-process connector and the socket gateway alike.

Faults that happen *now* rather than on the next request (duplicate or correct an
execution, inject a foreign order, switch accounts, skew the clock, stall an order) are
methods of SimBroker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from ibguard.errors import UsageError

__all__ = [
    "CANCEL_REFUSALS",
    "DropConnection",
    "FillPlan",
    "LateFillOnCancel",
    "PacingViolation",
    "RefuseCancel",
    "RejectOrder",
    "Rule",
    "Script",
    "SlowCancel",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectOrder:
    """Answer matching placeOrders with error(orderId, code, text), then orderStatus Inactive."""

    code: int = 201
    text: str = "Order rejected - reason:"
    symbol: str | None = None
    times: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class DropConnection:
    """Drop the session right after its next `request` (placeOrder, or cancelOrder: CONN-09),
    before any answer. `received`: the broker got it (the order lives on, or the cancel was
    applied) or it was lost."""

    received: bool = True
    request: str = "placeOrder"
    client_id: int | None = None
    times: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class FillPlan:
    """Fill the next matching order in these (shares, price) pieces instead of matching it.

    A remaining quantity rests (Submitted). `duplicate_last` re-sends the last execution
    (same execId); `exec_before_status` sends execDetails before openOrder/orderStatus;
    `before_acknowledgement` plays the fills before the order is announced at all, so its
    first execDetails precedes any openOrder or orderStatus (LIFE-08).
    """

    fills: tuple[tuple[Decimal, Decimal], ...]
    symbol: str | None = None
    duplicate_last: bool = False
    exec_before_status: bool = False
    before_acknowledgement: bool = False
    times: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class RefuseCancel:
    """Refuse the next cancel with `code`. 10148 (the default): the fill races the cancel,
    the order fills completely (at `price`, default the symbol's price), then the cancel is
    refused naming the state Filled. 10147 ("not found": TWS no longer knows the order) and
    161 ("not in a cancellable state", e.g. PreSubmitted) refuse it and change nothing."""

    code: int = 10148
    price: Decimal | None = None
    symbol: str | None = None
    times: int = 1

    def __post_init__(self) -> None:
        if self.code not in CANCEL_REFUSALS:
            known = ", ".join(map(str, sorted(CANCEL_REFUSALS)))
            raise UsageError(f"RefuseCancel code must be one of {known}, got {self.code}")


CANCEL_REFUSALS = {
    10147: "OrderId {order_id} that needs to be cancelled is not found.",
    10148: "OrderId {order_id} that needs to be cancelled cannot be cancelled, state: {state}.",
    161: "Cancel attempted when order is not in a cancellable state. Order permId ={perm_id}",
}
"""TWS's texts for a refused cancel (IB error table; 10148 names the order's state)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LateFillOnCancel:
    """Confirm the next cancel (202, Cancelled), then deliver an execution of `shares` @
    `price` stamped `seconds_before` the cancel: it happened first, arrives last."""

    shares: Decimal
    price: Decimal
    seconds_before: int = 1
    symbol: str | None = None
    times: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PacingViolation:
    """Refuse the next matching reqHistoricalData with IB's pacing error 162."""

    symbol: str | None = None
    times: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class SlowCancel:
    """Take the next cancel and answer nothing yet: the broker is still working on it. The
    case confirms it later (`SimBroker.cancel_at_broker`), after what it plays in between
    (LIFE-13: a fill 100 ms before the Cancelled)."""

    symbol: str | None = None
    times: int = 1


Rule = (
    RejectOrder
    | DropConnection
    | FillPlan
    | RefuseCancel
    | LateFillOnCancel
    | PacingViolation
    | SlowCancel
)
R = TypeVar(
    "R",
    RejectOrder,
    DropConnection,
    FillPlan,
    RefuseCancel,
    LateFillOnCancel,
    PacingViolation,
    SlowCancel,
)


@dataclass
class _Slot:
    rule: Rule
    left: int


class Script:
    """The armed rules, consumed in the order they were armed."""

    def __init__(self, *rules: Rule) -> None:
        self._armed: list[_Slot] = []
        for rule in rules:
            self.arm(rule)

    def arm(self, rule: Rule) -> None:
        if rule.times < 1:
            raise UsageError(f"a rule must be usable at least once, got times={rule.times}")
        self._armed.append(_Slot(rule, rule.times))

    def take(
        self,
        kind: type[R],
        *,
        symbol: str = "",
        client_id: int | None = None,
        where: Callable[[R], bool] | None = None,
    ) -> R | None:
        """The first armed rule of `kind` matching this request (and `where`, when given),
        with one use consumed."""
        for slot in self._armed:
            rule = slot.rule
            if not isinstance(rule, kind) or not _matches(rule, symbol, client_id):
                continue
            if where is not None and not where(rule):
                continue
            slot.left -= 1
            if not slot.left:
                self._armed.remove(slot)
            return rule
        return None

    @property
    def pending(self) -> tuple[Rule, ...]:
        """Rules not yet used up (a case can assert its script was fully played)."""
        return tuple(slot.rule for slot in self._armed)


def _matches(rule: Rule, symbol: str, client_id: int | None) -> bool:
    wanted_symbol = getattr(rule, "symbol", None)
    if wanted_symbol is not None and wanted_symbol != symbol:
        return False
    wanted_client = getattr(rule, "client_id", None)
    return wanted_client is None or wanted_client == client_id
