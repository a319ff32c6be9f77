"""Market data on the wire: ticks, tick-by-tick, 5-second bars and option analytics.

Layouts as the pinned clients' decoders read them at server versions 157..178 (ib_async and
ib_insync `decoder.py`, ibapi 9.81 `decoder.py`; see docs/tws-protocol-notes.md):
tickPrice/tickSize/tickString/tickGeneric carry a message version ("6") before the reqId;
tickOptionComputation has none from server version 156 (price-based volatility) and always
carries all eight values; tickReqParams and tickByTick have none. Sizes and volumes are whole
numbers (ibapi 9.81 reads them as int); tick-by-tick and bar times are epoch seconds.
"""

from __future__ import annotations

from datetime import datetime

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.registry import encodes
from ibguard.kit.gateway.wire_values import Fields, text
from ibguard.kit.sim.market_messages import (
    MarketDataType,
    RealTimeBar,
    TickByTickAllLast,
    TickByTickBidAsk,
    TickByTickMidPoint,
    TickGeneric,
    TickOptionComputation,
    TickPrice,
    TickReqParams,
    TickSize,
    TickSnapshotEnd,
    TickString,
)

__all__ = ["epoch"]

_TICK_VERSION = "6"


def epoch(when: datetime) -> str:
    """Whole epoch seconds, as TWS stamps ticks and bars."""
    return text(int(when.timestamp()))


@encodes(TickPrice, Out.TICK_PRICE)
def encode_tick_price(m: TickPrice, server_version: int) -> Fields:
    return (
        text(Out.TICK_PRICE),
        _TICK_VERSION,
        text(m.reqId),
        text(m.tickType),
        text(m.price),
        text(m.size),
        text(m.attrMask),
    )


@encodes(TickSize, Out.TICK_SIZE)
def encode_tick_size(m: TickSize, server_version: int) -> Fields:
    return (text(Out.TICK_SIZE), _TICK_VERSION, text(m.reqId), text(m.tickType), text(m.size))


@encodes(TickString, Out.TICK_STRING)
def encode_tick_string(m: TickString, server_version: int) -> Fields:
    return (text(Out.TICK_STRING), _TICK_VERSION, text(m.reqId), text(m.tickType), m.value)


@encodes(TickGeneric, Out.TICK_GENERIC)
def encode_tick_generic(m: TickGeneric, server_version: int) -> Fields:
    return (text(Out.TICK_GENERIC), _TICK_VERSION, text(m.reqId), text(m.tickType), text(m.value))


@encodes(TickSnapshotEnd, Out.TICK_SNAPSHOT_END)
def encode_tick_snapshot_end(m: TickSnapshotEnd, server_version: int) -> Fields:
    return (text(Out.TICK_SNAPSHOT_END), "1", text(m.reqId))


@encodes(MarketDataType, Out.MARKET_DATA_TYPE)
def encode_market_data_type(m: MarketDataType, server_version: int) -> Fields:
    return (text(Out.MARKET_DATA_TYPE), "1", text(m.reqId), text(m.marketDataType))


@encodes(TickReqParams, Out.TICK_REQ_PARAMS)
def encode_tick_req_params(m: TickReqParams, server_version: int) -> Fields:
    return (
        text(Out.TICK_REQ_PARAMS),
        text(m.reqId),
        text(m.minTick),
        m.bboExchange,
        text(m.snapshotPermissions),
    )


@encodes(TickOptionComputation, Out.TICK_OPTION_COMPUTATION)
def encode_tick_option_computation(m: TickOptionComputation, server_version: int) -> Fields:
    return (
        text(Out.TICK_OPTION_COMPUTATION),
        text(m.reqId),
        text(m.tickType),
        text(m.tickAttrib),
        text(m.impliedVol),
        text(m.delta),
        text(m.optPrice),
        text(m.pvDividend),
        text(m.gamma),
        text(m.vega),
        text(m.theta),
        text(m.undPrice),
    )


@encodes(TickByTickAllLast, Out.TICK_BY_TICK)
def encode_tick_by_tick_last(m: TickByTickAllLast, server_version: int) -> Fields:
    return (
        text(Out.TICK_BY_TICK),
        text(m.reqId),
        text(m.tickType),
        epoch(m.time),
        text(m.price),
        text(m.size),
        text(m.mask),
        m.exchange,
        m.specialConditions,
    )


@encodes(TickByTickBidAsk, Out.TICK_BY_TICK)
def encode_tick_by_tick_bid_ask(m: TickByTickBidAsk, server_version: int) -> Fields:
    return (
        text(Out.TICK_BY_TICK),
        text(m.reqId),
        "3",
        epoch(m.time),
        text(m.bidPrice),
        text(m.askPrice),
        text(m.bidSize),
        text(m.askSize),
        text(m.mask),
    )


@encodes(TickByTickMidPoint, Out.TICK_BY_TICK)
def encode_tick_by_tick_mid(m: TickByTickMidPoint, server_version: int) -> Fields:
    return (text(Out.TICK_BY_TICK), text(m.reqId), "4", epoch(m.time), text(m.midPoint))


@encodes(RealTimeBar, Out.REAL_TIME_BARS)
def encode_real_time_bar(m: RealTimeBar, server_version: int) -> Fields:
    return (
        text(Out.REAL_TIME_BARS),
        "3",
        text(m.reqId),
        epoch(m.time),
        text(m.open),
        text(m.high),
        text(m.low),
        text(m.close),
        text(m.volume),
        text(m.wap),
        text(m.count),
    )
