"""What the paper TWS says about markets: ticks, bars, history and the instrument lookups.

One frozen dataclass per TWS message, IB's field names, deriving from `TwsMessage` so the
gateway's encoder table (`ibguard.kit.gateway.outbound_market` / `outbound_history`) is keyed
by the class. Prices are Decimal on the instrument's tick grid; sizes and volumes are Decimal
whole lots; option analytics are Decimal rounded to 6 places (they are model outputs, not
money). Times are aware datetimes where the wire carries epoch seconds; history bar dates are
the text TWS sends (its format depends on the request's formatDate, decided by the sim).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import final

from ibguard.kit.sim.messages import Contract, TwsMessage

__all__ = [
    "ContractDescription",
    "HeadTimestamp",
    "HistoricalBar",
    "HistoricalData",
    "HistoricalDataUpdate",
    "HistoricalTick",
    "HistoricalTickBidAsk",
    "HistoricalTickLast",
    "HistoricalTicks",
    "HistoricalTicksBidAsk",
    "HistoricalTicksLast",
    "MarketDataType",
    "MarketRule",
    "PriceIncrement",
    "RealTimeBar",
    "SecurityDefinitionOptionParameter",
    "SecurityDefinitionOptionParameterEnd",
    "SymbolSamples",
    "TickByTickAllLast",
    "TickByTickBidAsk",
    "TickByTickMidPoint",
    "TickGeneric",
    "TickOptionComputation",
    "TickPrice",
    "TickReqParams",
    "TickSize",
    "TickSnapshotEnd",
    "TickString",
]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class MarketDataType(TwsMessage):
    """The data type a subscription delivers: 1 live, 2 frozen, 3 delayed, 4 delayed frozen."""

    reqId: int
    marketDataType: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TickReqParams(TwsMessage):
    reqId: int
    minTick: Decimal
    bboExchange: str
    snapshotPermissions: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TickPrice(TwsMessage):
    """A price tick; bid, ask and last carry their size too (the clients split it)."""

    reqId: int
    tickType: int
    price: Decimal
    size: Decimal
    attrMask: int = 0  # 1 canAutoExecute, 2 pastLimit, 4 preOpen


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TickSize(TwsMessage):
    reqId: int
    tickType: int
    size: Decimal


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TickString(TwsMessage):
    reqId: int
    tickType: int
    value: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TickGeneric(TwsMessage):
    reqId: int
    tickType: int
    value: Decimal


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TickSnapshotEnd(TwsMessage):
    reqId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TickOptionComputation(TwsMessage):
    """Option analytics for the bid (10), ask (11), last (12) or model (13) price."""

    reqId: int
    tickType: int
    tickAttrib: int  # 0 return based, 1 price based
    impliedVol: Decimal
    delta: Decimal
    optPrice: Decimal
    pvDividend: Decimal
    gamma: Decimal
    vega: Decimal
    theta: Decimal
    undPrice: Decimal


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TickByTickAllLast(TwsMessage):
    reqId: int
    tickType: int  # 1 Last, 2 AllLast
    time: datetime
    price: Decimal
    size: Decimal
    mask: int = 0  # 1 pastLimit, 2 unreported
    exchange: str = ""
    specialConditions: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TickByTickBidAsk(TwsMessage):
    reqId: int
    time: datetime
    bidPrice: Decimal
    askPrice: Decimal
    bidSize: Decimal
    askSize: Decimal
    mask: int = 0  # 1 bidPastLow, 2 askPastHigh


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TickByTickMidPoint(TwsMessage):
    reqId: int
    time: datetime
    midPoint: Decimal


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RealTimeBar(TwsMessage):
    reqId: int
    time: datetime  # the bar's start
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    wap: Decimal
    count: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalBar:
    date: str  # as TWS prints it for the request's formatDate
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    wap: Decimal
    barCount: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalData(TwsMessage):
    """The bars of a reqHistoricalData and its end (one message: IB sends them together)."""

    reqId: int
    startDateStr: str
    endDateStr: str
    bars: tuple[HistoricalBar, ...]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalDataUpdate(TwsMessage):
    """keepUpToDate: the bar being built (or a new one) since the history was sent."""

    reqId: int
    bar: HistoricalBar


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HeadTimestamp(TwsMessage):
    reqId: int
    headTimestamp: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ContractDescription:
    contract: Contract
    derivativeSecTypes: tuple[str, ...] = ()
    description: str = ""  # on the wire from server version 176
    issuerId: str = ""  # on the wire from server version 176


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolSamples(TwsMessage):
    reqId: int
    descriptions: tuple[ContractDescription, ...]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityDefinitionOptionParameter(TwsMessage):
    reqId: int
    exchange: str
    underlyingConId: int
    tradingClass: str
    multiplier: str
    expirations: tuple[str, ...]
    strikes: tuple[Decimal, ...]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityDefinitionOptionParameterEnd(TwsMessage):
    reqId: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PriceIncrement:
    lowEdge: Decimal
    increment: Decimal


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class MarketRule(TwsMessage):
    marketRuleId: int
    priceIncrements: tuple[PriceIncrement, ...]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalTick:
    """A MIDPOINT tick of reqHistoricalTicks (size is always 0)."""

    time: datetime
    price: Decimal
    size: Decimal


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalTickBidAsk:
    time: datetime
    priceBid: Decimal
    priceAsk: Decimal
    sizeBid: Decimal
    sizeAsk: Decimal
    mask: int = 0  # 1 askPastHigh, 2 bidPastLow (the clients' reading)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalTickLast:
    time: datetime
    price: Decimal
    size: Decimal
    exchange: str
    specialConditions: str = ""
    mask: int = 0  # 1 pastLimit, 2 unreported


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalTicks(TwsMessage):
    reqId: int
    ticks: tuple[HistoricalTick, ...]
    done: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalTicksBidAsk(TwsMessage):
    reqId: int
    ticks: tuple[HistoricalTickBidAsk, ...]
    done: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalTicksLast(TwsMessage):
    reqId: int
    ticks: tuple[HistoricalTickLast, ...]
    done: bool
