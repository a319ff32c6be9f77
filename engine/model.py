"""Value types of the engine: instruments, order requests and the frozen views it hands out.

Invariants: money and quantities are `Decimal` (a float is refused at construction);
times are timezone-aware broker times; everything here is frozen, so state that leaves
the engine cannot be mutated by a connector or a strategy (BOUNDARY-01 at runtime).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import final

from ibguard.engine.errors import UsageError

__all__ = [
    "FillView",
    "Instrument",
    "OrderRequest",
    "OrderSnapshot",
    "OrderType",
    "PositionSnapshot",
    "Side",
    "Status",
    "TimeInForce",
    "require_aware",
    "require_decimal",
]


def require_decimal(name: str, value: object) -> None:
    """Refuse floats (and anything else) where money or quantity belongs."""
    if not isinstance(value, Decimal):
        raise UsageError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise UsageError(f"{name} must be finite, got {value}")


def require_aware(name: str, value: datetime | None) -> None:
    """Broker times must carry a zone; naive times depend on the host and are refused."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise UsageError(f"{name} must be timezone-aware (broker time), got naive {value}")


class Side(str, Enum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(str, Enum):
    MARKET = "MKT"
    LIMIT = "LMT"


class TimeInForce(str, Enum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"


class Status(str, Enum):
    """Order states of the engine (see lifecycle.py for the moves between them)."""

    NEW = "NEW"
    SUBMITTED = "SUBMITTED"
    WORKING = "WORKING"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    CANCEL_PENDING = "CANCEL_PENDING"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"

    @property
    def is_terminal(self) -> bool:
        return self in (Status.FILLED, Status.CANCELED, Status.REJECTED)

    @property
    def is_live(self) -> bool:
        """At the broker, or possibly at the broker: it can still trade."""
        return self in (
            Status.SUBMITTED,
            Status.WORKING,
            Status.PARTIALLY_FILLED,
            Status.CANCEL_PENDING,
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """Contract identity. `con_id` 0 means not yet known (IB assigns it)."""

    symbol: str
    con_id: int = 0
    sec_type: str = "STK"
    exchange: str = "SMART"
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not self.symbol:
            raise UsageError("instrument symbol must not be empty")
        if self.con_id < 0:
            raise UsageError(f"con_id must be >= 0, got {self.con_id}")

    @property
    def key(self) -> str:
        """Book key for positions: the symbol and security type, stable across conId lookups."""
        return f"{self.symbol}:{self.sec_type}:{self.currency}"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """What a strategy asks for. `flatten_reason` marks orders sent by a flatten."""

    instrument: Instrument
    side: Side
    quantity: Decimal
    order_type: OrderType = OrderType.LIMIT
    limit_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.DAY
    flatten_reason: str | None = None

    def __post_init__(self) -> None:
        require_decimal("quantity", self.quantity)
        if self.quantity <= 0:
            raise UsageError(f"quantity must be positive, got {self.quantity}")
        if self.order_type is OrderType.LIMIT:
            if self.limit_price is None:
                raise UsageError("a limit order needs limit_price")
            require_decimal("limit_price", self.limit_price)
        elif self.limit_price is not None:
            raise UsageError("a market order takes no limit_price")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class FillView:
    """One accepted execution, as the engine counted it."""

    exec_id: str
    quantity: Decimal
    price: Decimal
    time: datetime
    commission: Decimal | None = None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSnapshot:
    """Frozen view of one order. Broker ids are None until the broker confirmed them."""

    oms_id: str
    instrument: Instrument
    side: Side
    quantity: Decimal
    order_type: OrderType
    limit_price: Decimal | None
    tif: TimeInForce
    status: Status
    filled: Decimal
    remaining: Decimal
    avg_fill_price: Decimal | None
    broker_order_id: int | None
    perm_id: int | None
    client_id: int | None
    recovered: bool
    pending_reconcile: bool
    flatten_reason: str | None
    overfilled: bool
    created_at: datetime | None
    updated_at: datetime | None
    last_fill_at: datetime | None
    fills: tuple[FillView, ...]

    @property
    def commission(self) -> Decimal:
        return sum((f.commission or Decimal(0) for f in self.fills), Decimal(0))


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PositionSnapshot:
    """Signed position in one instrument (positive long, negative short)."""

    instrument: Instrument
    quantity: Decimal
