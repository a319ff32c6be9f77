"""Everything that goes into `Engine.handle()`: strategy intents, broker events and ticks.

Connectors turn broker callbacks into these; strategies and schedulers build the intents.
All are frozen, slotted, keyword-only and validated when built (Decimal money, aware
broker times), so a malformed broker message fails at the connector, as a UsageError,
and never inside the engine's state.

Broker-side identifiers arrive exactly as IB sends them: `order_id` is per clientId and
per session (0 or 2^31-1 mean "unset"), `perm_id` is durable (0 means not yet known),
`order_ref` carries the engine's namespaced oms_id when the order is ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import final

from ibguard.engine.errors import UsageError
from ibguard.engine.model import (
    Instrument,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
    require_aware,
    require_decimal,
)

__all__ = [
    "BrokerError",
    "BrokerEvent",
    "CommissionReport",
    "CompletedOrdersSnapshot",
    "ConnectionLost",
    "ConnectionRestored",
    "ContractDetails",
    "Event",
    "ExecutionReport",
    "ExecutionsSnapshot",
    "FlattenAll",
    "Intent",
    "ManagedAccounts",
    "NextValidId",
    "OpenOrderReport",
    "OpenOrdersSnapshot",
    "OrderStatusReport",
    "PositionReport",
    "PositionsSnapshot",
    "Reconcile",
    "RequestCancel",
    "ServerTime",
    "SubmitOrder",
    "Tick",
    "WhatIfResult",
]


# --- intents: what the strategy or the scheduler asks -------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitOrder:
    """Place an order under the strategy's own id. Resubmitting an oms_id that is NEW
    (never reached the broker) is allowed; any other resubmit is refused."""

    oms_id: str
    request: OrderRequest

    def __post_init__(self) -> None:
        if not self.oms_id or ":" in self.oms_id:
            raise UsageError(f"oms_id must be non-empty and contain no ':', got {self.oms_id!r}")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCancel:
    oms_id: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class FlattenAll:
    """Close every position the engine holds and cancel its working orders."""

    reason: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Reconcile:
    """Ask the broker for the truth: open orders, completed orders, then executions."""

    reason: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Tick:
    """Time passes. `now` is broker time (see BrokerClock); timers and schedules run on it."""

    now: datetime

    def __post_init__(self) -> None:
        require_aware("now", self.now)


Intent = SubmitOrder | RequestCancel | FlattenAll | Reconcile | Tick


# --- broker events: what the connector reports ---------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrderReport:
    """openOrder (live) or completedOrder (in a CompletedOrdersSnapshot).

    `status` is IB's raw status string (PendingSubmit, PreSubmitted, Submitted, Cancelled,
    ApiCancelled, Filled, Inactive, ...). completedOrder carries no order_id/client_id: 0.
    """

    order_id: int
    client_id: int
    perm_id: int
    order_ref: str
    instrument: Instrument
    side: Side
    quantity: Decimal
    order_type: OrderType
    limit_price: Decimal | None
    tif: TimeInForce
    account: str
    status: str
    filled: Decimal = Decimal(0)
    remaining: Decimal | None = None
    time: datetime | None = None

    def __post_init__(self) -> None:
        require_decimal("quantity", self.quantity)
        require_decimal("filled", self.filled)
        if self.remaining is not None:
            require_decimal("remaining", self.remaining)
        if self.limit_price is not None:
            require_decimal("limit_price", self.limit_price)
        require_aware("time", self.time)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatusReport:
    """orderStatus. `perm_id` may be 0 early on; `time` is broker time when known;
    `why_held` is why an Inactive order is held, not dead ("locate": LIFE-13)."""

    order_id: int
    client_id: int
    perm_id: int
    status: str
    filled: Decimal
    remaining: Decimal
    avg_fill_price: Decimal
    time: datetime | None = None
    why_held: str = ""

    def __post_init__(self) -> None:
        require_decimal("filled", self.filled)
        require_decimal("remaining", self.remaining)
        require_decimal("avg_fill_price", self.avg_fill_price)
        require_aware("time", self.time)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionReport:
    """execDetails. `exec_id` like "0000e0d5.6553a1b4.01.01"; a different last `.NN` is a
    correction of the same execution. `time` is the broker's execution time."""

    exec_id: str
    order_id: int
    client_id: int
    perm_id: int
    order_ref: str
    instrument: Instrument
    side: Side
    shares: Decimal
    price: Decimal
    time: datetime
    account: str
    cum_qty: Decimal = Decimal(0)
    avg_price: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        require_decimal("shares", self.shares)
        require_decimal("price", self.price)
        require_decimal("cum_qty", self.cum_qty)
        require_decimal("avg_price", self.avg_price)
        require_aware("time", self.time)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CommissionReport:
    exec_id: str
    commission: Decimal
    currency: str = "USD"
    realized_pnl: Decimal | None = None

    def __post_init__(self) -> None:
        require_decimal("commission", self.commission)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerError:
    """error(reqId, code, text). `req_id` is the orderId when the error is about an order,
    -1 when about nothing in particular."""

    req_id: int
    code: int
    message: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionLost:
    """The API socket dropped (or 1100: TWS lost its own connection)."""

    reason: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionRestored:
    """Connected again. `data_lost` (reconnect, 1101) means subscriptions and state must be
    rebuilt: the engine reconciles. `client_id` is the id this session connected with."""

    data_lost: bool = True
    client_id: int | None = None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class NextValidId:
    order_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedAccounts:
    accounts: tuple[str, ...]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ServerTime:
    """reqCurrentTime's answer, paired with the local clock read when it arrived."""

    broker_time: datetime
    local_time: datetime

    def __post_init__(self) -> None:
        require_aware("broker_time", self.broker_time)
        require_aware("local_time", self.local_time)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PositionReport:
    account: str
    instrument: Instrument
    quantity: Decimal
    avg_cost: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        require_decimal("quantity", self.quantity)
        require_decimal("avg_cost", self.avg_cost)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ContractDetails:
    """The broker's current identity for an instrument (e.g. after a corporate action the
    same conId reports a new symbol, or the symbol maps to a new conId)."""

    instrument: Instrument
    previous_symbol: str | None = None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrdersSnapshot:
    """Every openOrder up to openOrderEnd."""

    orders: tuple[OpenOrderReport, ...] = ()


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CompletedOrdersSnapshot:
    """Every completedOrder up to completedOrdersEnd."""

    orders: tuple[OpenOrderReport, ...] = ()


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionsSnapshot:
    """Every execDetails (with commissions) up to execDetailsEnd."""

    executions: tuple[ExecutionReport, ...] = ()
    commissions: tuple[CommissionReport, ...] = ()


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PositionsSnapshot:
    """Every position up to positionEnd, all accounts the session can see."""

    positions: tuple[PositionReport, ...] = ()


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIfResult:
    """Answer to RequestWhatIf: would these orders keep the account within margin?"""

    request_id: int
    margin_ok: bool
    detail: str = ""
    init_margin_after: Decimal | None = None
    equity_with_loan: Decimal | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())


BrokerEvent = (
    OpenOrderReport
    | OrderStatusReport
    | ExecutionReport
    | CommissionReport
    | BrokerError
    | ConnectionLost
    | ConnectionRestored
    | NextValidId
    | ManagedAccounts
    | ServerTime
    | PositionReport
    | ContractDetails
    | OpenOrdersSnapshot
    | CompletedOrdersSnapshot
    | ExecutionsSnapshot
    | PositionsSnapshot
    | WhatIfResult
)

Event = Intent | BrokerEvent
