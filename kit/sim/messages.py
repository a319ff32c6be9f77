"""What the simulated TWS says to one API session: one frozen dataclass per TWS message.

Owns the IB-shaped value types (Contract, Order, OrderState, Execution) and the outbound
messages (nextValidId, openOrder, execDetails, ...). Field names follow IB's own
(ibapi / ib_async) so the fake gateway can encode each message field by field; they are
deliberately not engine-shaped. Money and quantities are Decimal; times are aware UTC
datetimes (the wire carries them as IB-formatted strings or epoch seconds, the gateway
formats them). `None` stands for IB's "unset" (UNSET_DOUBLE on the wire).

`Disconnected` is not a TWS message: it tells a front that the socket is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import final

__all__ = [
    "AccountDownloadEnd",
    "AccountSummary",
    "AccountSummaryEnd",
    "AccountUpdateMulti",
    "AccountUpdateMultiEnd",
    "AccountUpdateTime",
    "AccountValue",
    "CommissionReport",
    "CompletedOrder",
    "CompletedOrdersEnd",
    "Contract",
    "ContractDetails",
    "ContractDetailsEnd",
    "CurrentTime",
    "Disconnected",
    "Error",
    "ExecDetails",
    "ExecDetailsEnd",
    "Execution",
    "ManagedAccounts",
    "Message",
    "NextValidId",
    "OpenOrder",
    "OpenOrderEnd",
    "Order",
    "OrderState",
    "OrderStatus",
    "PortfolioValue",
    "Position",
    "PositionEnd",
]


# --- IB value types ---------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    conId: int = 0
    symbol: str = ""
    secType: str = "STK"
    exchange: str = "SMART"
    primaryExchange: str = ""
    currency: str = "USD"
    localSymbol: str = ""
    tradingClass: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """The order fields the sim uses (IB's Order has ~120; the rest are IB defaults)."""

    orderId: int = 0
    clientId: int = 0
    permId: int = 0
    action: str = "BUY"  # BUY | SELL
    totalQuantity: Decimal = Decimal(0)
    orderType: str = "LMT"  # MKT | LMT
    lmtPrice: Decimal | None = None
    auxPrice: Decimal | None = None
    tif: str = "DAY"
    account: str = ""
    orderRef: str = ""
    transmit: bool = True
    parentId: int = 0
    whatIf: bool = False
    filledQuantity: Decimal | None = None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderState:
    status: str = ""
    initMarginAfter: Decimal | None = None
    maintMarginAfter: Decimal | None = None
    equityWithLoanAfter: Decimal | None = None
    commission: Decimal | None = None
    commissionCurrency: str = ""
    warningText: str = ""
    completedTime: datetime | None = None
    completedStatus: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Execution:
    execId: str
    time: datetime
    acctNumber: str
    exchange: str
    side: str  # BOT | SLD
    shares: Decimal
    price: Decimal
    permId: int
    clientId: int
    orderId: int
    cumQty: Decimal
    avgPrice: Decimal
    orderRef: str = ""
    liquidation: int = 0
    lastLiquidity: int = 1


# --- messages, TWS -> client ------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class NextValidId:
    orderId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedAccounts:
    accountsList: str  # comma-separated, as on the wire


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CurrentTime:
    time: datetime  # whole epoch seconds on the wire


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Error:
    reqId: int
    errorCode: int
    errorString: str
    advancedOrderRejectJson: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatus:
    orderId: int
    status: str
    filled: Decimal
    remaining: Decimal
    avgFillPrice: Decimal
    permId: int
    parentId: int
    lastFillPrice: Decimal
    clientId: int
    whyHeld: str = ""
    mktCapPrice: Decimal = Decimal(0)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrder:
    orderId: int
    contract: Contract
    order: Order
    orderState: OrderState


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrderEnd:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CompletedOrder:
    contract: Contract
    order: Order
    orderState: OrderState


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CompletedOrdersEnd:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecDetails:
    reqId: int  # -1 for live executions
    contract: Contract
    execution: Execution


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecDetailsEnd:
    reqId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CommissionReport:
    execId: str
    commission: Decimal
    currency: str = "USD"
    realizedPNL: Decimal | None = None
    yield_: Decimal | None = None
    yieldRedemptionDate: int = 0


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    account: str
    contract: Contract
    position: Decimal
    avgCost: Decimal


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PositionEnd:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDownloadEnd:
    accountName: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountValue:
    """updateAccountValue: one key of the account (money as Decimal, words as text)."""

    key: str
    value: str | Decimal
    currency: str
    accountName: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioValue:
    """updatePortfolio: one position valued at the simulated market price."""

    contract: Contract
    position: Decimal
    marketPrice: Decimal
    marketValue: Decimal
    averageCost: Decimal
    unrealizedPNL: Decimal
    realizedPNL: Decimal
    accountName: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpdateTime:
    time: datetime  # "HH:MM" on the wire


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpdateMulti:
    reqId: int
    account: str
    modelCode: str
    key: str
    value: str | Decimal
    currency: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpdateMultiEnd:
    reqId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSummary:
    reqId: int
    account: str
    tag: str
    value: str | Decimal
    currency: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSummaryEnd:
    reqId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ContractDetails:
    reqId: int
    contract: Contract
    marketName: str = ""
    minTick: Decimal = Decimal("0.01")
    longName: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ContractDetailsEnd:
    reqId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnected:
    """Transport event, not a TWS message: the session's socket is closed."""

    reason: str = ""


Message = (
    NextValidId
    | ManagedAccounts
    | CurrentTime
    | Error
    | OrderStatus
    | OpenOrder
    | OpenOrderEnd
    | CompletedOrder
    | CompletedOrdersEnd
    | ExecDetails
    | ExecDetailsEnd
    | CommissionReport
    | Position
    | PositionEnd
    | AccountDownloadEnd
    | AccountValue
    | PortfolioValue
    | AccountUpdateTime
    | AccountUpdateMulti
    | AccountUpdateMultiEnd
    | AccountSummary
    | AccountSummaryEnd
    | ContractDetails
    | ContractDetailsEnd
    | Disconnected
)
