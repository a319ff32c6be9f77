"""Market rules and historical ticks on the wire: marketRule (93), historicalTicks (96),
historicalTicksBidAsk (97), historicalTicksLast (98).

Layouts as every client reads them (no message version; ib_async, ib_insync, ibapi 9.81 and
10.x read the same fields at 157..178): marketRule is id, n, n x (lowEdge, increment); the
tick lists are reqId, n, the ticks, then done. A tick's time is epoch seconds. historicalTicks
(MIDPOINT) carries an unused field after the time, which TWS sends as 0 and the clients skip;
the bid/ask mask is 1 askPastHigh, 2 bidPastLow; the last mask 1 pastLimit, 2 unreported.
ibapi 9.81 reads the sizes as ints (whole numbers here).
"""

from __future__ import annotations

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.registry import encodes
from ibguard.kit.gateway.wire_values import Fields, text
from ibguard.kit.sim.market_messages import (
    HistoricalTicks,
    HistoricalTicksBidAsk,
    HistoricalTicksLast,
    MarketRule,
)

__all__: list[str] = []


@encodes(MarketRule, Out.MARKET_RULE)
def encode_market_rule(m: MarketRule, server_version: int) -> Fields:
    fields: Fields = (text(Out.MARKET_RULE), text(m.marketRuleId), text(len(m.priceIncrements)))
    for row in m.priceIncrements:
        fields += (text(row.lowEdge), text(row.increment))
    return fields


@encodes(HistoricalTicks, Out.HISTORICAL_TICKS)
def encode_historical_ticks(m: HistoricalTicks, server_version: int) -> Fields:
    fields: Fields = (text(Out.HISTORICAL_TICKS), text(m.reqId), text(len(m.ticks)))
    for t in m.ticks:
        fields += (text(int(t.time.timestamp())), "0", text(t.price), text(t.size))
    return (*fields, text(m.done))


@encodes(HistoricalTicksBidAsk, Out.HISTORICAL_TICKS_BID_ASK)
def encode_historical_ticks_bid_ask(m: HistoricalTicksBidAsk, server_version: int) -> Fields:
    fields: Fields = (text(Out.HISTORICAL_TICKS_BID_ASK), text(m.reqId), text(len(m.ticks)))
    for t in m.ticks:
        fields += (
            text(int(t.time.timestamp())),
            text(t.mask),
            text(t.priceBid),
            text(t.priceAsk),
            text(t.sizeBid),
            text(t.sizeAsk),
        )
    return (*fields, text(m.done))


@encodes(HistoricalTicksLast, Out.HISTORICAL_TICKS_LAST)
def encode_historical_ticks_last(m: HistoricalTicksLast, server_version: int) -> Fields:
    fields: Fields = (text(Out.HISTORICAL_TICKS_LAST), text(m.reqId), text(len(m.ticks)))
    for t in m.ticks:
        fields += (
            text(int(t.time.timestamp())),
            text(t.mask),
            text(t.price),
            text(t.size),
            t.exchange,
            t.specialConditions,
        )
    return (*fields, text(m.done))
