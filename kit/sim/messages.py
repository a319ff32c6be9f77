"""The one vocabulary of TWS messages: IB's value types and one frozen dataclass per message.

Used by both ends: SimBroker says these to its API sessions, the fake gateway's encoders
(registered per message type in `ibguard.kit.gateway.registry`) write them to the wire, and the
gateway's decoders read client contracts and orders into the same `Contract` / `Order`. Field
names are IB's own (ibapi / ib_async spelling), deliberately not engine-shaped. Money and
quantities are Decimal and must be finite; times are aware datetimes (the gateway formats
them); `None` on a Decimal field stands for IB's "unset" (UNSET_DOUBLE on the wire).

Every server-to-client message derives from `TwsMessage`, so a new message needs no edit
here beyond its own class (and may live in another module). `Disconnected` is not a TWS
message: it tells a front that the socket is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import final

from ibguard.errors import UsageError

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
    "TwsMessage",
    "require_finite",
]

_ZERO = Decimal(0)


def require_finite(owner: object, **values: Decimal | None) -> None:
    """Refuse NaN and infinities: they cannot be written to the wire, so they are never
    stored (a stored one would fail every later answer that carries it)."""
    for name, value in values.items():
        if value is not None and not value.is_finite():
            raise UsageError(f"{type(owner).__name__}.{name} must be finite, got {value}")


# --- IB value types ---------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    conId: int = 0
    symbol: str = ""
    secType: str = "STK"
    lastTradeDateOrContractMonth: str = ""
    strike: Decimal = _ZERO
    right: str = ""
    multiplier: str = ""
    exchange: str = "SMART"
    primaryExchange: str = ""
    currency: str = "USD"
    localSymbol: str = ""
    tradingClass: str = ""
    secIdType: str = ""
    secId: str = ""

    def __post_init__(self) -> None:
        require_finite(self, strike=self.strike)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """The order fields the sim and the gateway use (IB's Order has ~120; the rest are sent
    as IB's defaults)."""

    orderId: int = 0
    clientId: int = 0
    permId: int = 0
    action: str = "BUY"  # BUY | SELL
    totalQuantity: Decimal = _ZERO
    orderType: str = "LMT"  # MKT | LMT | ...
    lmtPrice: Decimal | None = None
    auxPrice: Decimal | None = None
    tif: str = "DAY"
    ocaGroup: str = ""
    account: str = ""
    openClose: str = ""
    origin: int = 0
    orderRef: str = ""
    transmit: bool = True
    parentId: int = 0
    outsideRth: bool = False
    hidden: bool = False
    goodAfterTime: str = ""
    goodTillDate: str = ""
    trailStopPrice: Decimal | None = None
    trailingPercent: Decimal | None = None
    cashQty: Decimal | None = None
    modelCode: str = ""
    whatIf: bool = False
    eTradeOnly: bool = False  # refused by TWS since 983 (error 10268)
    firmQuoteOnly: bool = False  # refused by TWS since 983 (error 10269)
    filledQuantity: Decimal | None = None  # completedOrder only
    parentPermId: int = 0  # completedOrder only

    def __post_init__(self) -> None:
        require_finite(
            self,
            totalQuantity=self.totalQuantity,
            lmtPrice=self.lmtPrice,
            auxPrice=self.auxPrice,
            trailStopPrice=self.trailStopPrice,
            trailingPercent=self.trailingPercent,
            cashQty=self.cashQty,
            filledQuantity=self.filledQuantity,
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderState:
    """Status plus what-if margin and commission; None margins are IB's unset double."""

    status: str = ""
    initMarginBefore: Decimal | None = None
    maintMarginBefore: Decimal | None = None
    equityWithLoanBefore: Decimal | None = None
    initMarginChange: Decimal | None = None
    maintMarginChange: Decimal | None = None
    equityWithLoanChange: Decimal | None = None
    initMarginAfter: Decimal | None = None
    maintMarginAfter: Decimal | None = None
    equityWithLoanAfter: Decimal | None = None
    commission: Decimal | None = None
    minCommission: Decimal | None = None
    maxCommission: Decimal | None = None
    commissionCurrency: str = ""
    warningText: str = ""
    completedTime: datetime | None = None  # completedOrder only
    completedStatus: str = ""  # completedOrder only

    def __post_init__(self) -> None:
        require_finite(
            self,
            initMarginBefore=self.initMarginBefore,
            maintMarginBefore=self.maintMarginBefore,
            equityWithLoanBefore=self.equityWithLoanBefore,
            initMarginChange=self.initMarginChange,
            maintMarginChange=self.maintMarginChange,
            equityWithLoanChange=self.equityWithLoanChange,
            initMarginAfter=self.initMarginAfter,
            maintMarginAfter=self.maintMarginAfter,
            equityWithLoanAfter=self.equityWithLoanAfter,
            commission=self.commission,
            minCommission=self.minCommission,
            maxCommission=self.maxCommission,
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Execution:
    execId: str
    time: datetime  # timezone-aware broker time
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
    evRule: str = ""
    evMultiplier: Decimal | None = None
    modelCode: str = ""
    lastLiquidity: int = 1
    pendingPriceRevision: bool = False  # on the wire from server version 178
    zone_printed: bool = True  # False: TWS prints `time` with no zone, in its login zone

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise UsageError("Execution.time must be timezone-aware")
        if self.side not in {"BOT", "SLD"}:
            raise UsageError(f"Execution.side must be BOT or SLD, got {self.side!r}")
        require_finite(
            self,
            shares=self.shares,
            price=self.price,
            cumQty=self.cumQty,
            avgPrice=self.avgPrice,
            evMultiplier=self.evMultiplier,
        )


@dataclass(frozen=True, slots=True)
class TwsMessage:
    """Base of every server-to-client message (the gateway's encoder table is keyed by the
    concrete class). Never instantiated itself."""


# --- messages, TWS -> client ------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class NextValidId(TwsMessage):
    orderId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedAccounts(TwsMessage):
    accountsList: str  # comma-separated, as on the wire


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CurrentTime(TwsMessage):
    time: datetime  # whole epoch seconds on the wire


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Error(TwsMessage):
    reqId: int
    errorCode: int
    errorString: str
    advancedOrderRejectJson: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatus(TwsMessage):
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
class OpenOrder(TwsMessage):
    orderId: int
    contract: Contract
    order: Order
    orderState: OrderState


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrderEnd(TwsMessage):
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CompletedOrder(TwsMessage):
    contract: Contract
    order: Order
    orderState: OrderState


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CompletedOrdersEnd(TwsMessage):
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecDetails(TwsMessage):
    reqId: int  # -1 for live executions
    contract: Contract
    execution: Execution


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecDetailsEnd(TwsMessage):
    reqId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CommissionReport(TwsMessage):
    execId: str
    commission: Decimal
    currency: str = "USD"
    realizedPNL: Decimal | None = None
    yield_: Decimal | None = None
    yieldRedemptionDate: int = 0  # YYYYMMDD, 0 when none

    def __post_init__(self) -> None:
        require_finite(
            self, commission=self.commission, realizedPNL=self.realizedPNL, yield_=self.yield_
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Position(TwsMessage):
    account: str
    contract: Contract
    position: Decimal
    avgCost: Decimal


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PositionEnd(TwsMessage):
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDownloadEnd(TwsMessage):
    accountName: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountValue(TwsMessage):
    """updateAccountValue: one key of the account (money as Decimal, words as text)."""

    key: str
    value: str | Decimal
    currency: str
    accountName: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioValue(TwsMessage):
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
class AccountUpdateTime(TwsMessage):
    time: datetime  # "HH:MM" on the wire


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpdateMulti(TwsMessage):
    reqId: int
    account: str
    modelCode: str
    key: str
    value: str | Decimal
    currency: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpdateMultiEnd(TwsMessage):
    reqId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSummary(TwsMessage):
    reqId: int
    account: str
    tag: str
    value: str | Decimal
    currency: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSummaryEnd(TwsMessage):
    reqId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ContractDetails(TwsMessage):
    """contractDetails: one match of a reqContractDetails (IB's ContractDetails, flattened)."""

    reqId: int
    contract: Contract
    marketName: str = ""
    minTick: Decimal = Decimal("0.01")
    orderTypes: str = ""
    validExchanges: str = ""
    priceMagnifier: int = 1
    underConId: int = 0
    longName: str = ""
    contractMonth: str = ""
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    timeZoneId: str = ""
    tradingHours: str = ""
    liquidHours: str = ""
    evRule: str = ""
    evMultiplier: int = 0
    secIdList: tuple[tuple[str, str], ...] = ()
    aggGroup: int = 0
    underSymbol: str = ""
    underSecType: str = ""
    marketRuleIds: str = ""
    realExpirationDate: str = ""
    lastTradeTime: str = ""
    stockType: str = ""
    minSize: Decimal = Decimal(1)
    sizeIncrement: Decimal = Decimal(1)
    suggestedSizeIncrement: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        require_finite(
            self,
            minTick=self.minTick,
            minSize=self.minSize,
            sizeIncrement=self.sizeIncrement,
            suggestedSizeIncrement=self.suggestedSizeIncrement,
        )
        if not self.longName.isascii():
            # ib_async decodes longName with "unicode-escape", which mangles non-ASCII text.
            raise UsageError("ContractDetails.longName must be ASCII")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ContractDetailsEnd(TwsMessage):
    reqId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnected:
    """Transport event, not a TWS message: the session's socket is closed."""

    reason: str = ""


Message = TwsMessage | Disconnected
"""What a session's listener receives."""
