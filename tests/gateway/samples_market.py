"""Round-trip samples of the market-data and history messages, one wrapper call each for
ib_async / ib_insync (their decoders are the same for these), plus what the official ibapi
client's EWrapper receives (`IBAPI_CALLS`: several calls where ibapi splits a message, as
tickPrice into tickPrice + tickSize). Appended to `samples.SAMPLES`, so the round-trip and
teeth tests of every message cover them at every server version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ibguard.kit.gateway.registry import encode_message
from ibguard.kit.sim import market_messages as mm
from ibguard.kit.sim.messages import Contract, TwsMessage

from .client_decoders import Call

__all__ = ["IBAPI_CALLS", "MARKET_MESSAGES", "market_samples"]

T0 = datetime(2024, 1, 2, 14, 30, 5, tzinfo=timezone.utc)
EPOCH = int(T0.timestamp())
BAR = mm.HistoricalBar(
    date="20240102 09:30:00 US/Eastern",
    open=Decimal("185.6"),
    high=Decimal("186.25"),
    low=Decimal("185.01"),
    close=Decimal("186.1"),
    volume=Decimal(120300),
    wap=Decimal("185.7731"),
    barCount=1203,
)
AAPL = Contract(
    conId=265598, symbol="AAPL", secType="STK", primaryExchange="NASDAQ", currency="USD"
)

# name -> the message
MARKET_MESSAGES: dict[str, TwsMessage] = {
    "tickPrice": mm.TickPrice(
        reqId=5, tickType=1, price=Decimal("185.59"), size=Decimal(300), attrMask=1
    ),
    "tickSize": mm.TickSize(reqId=5, tickType=8, size=Decimal(1234500)),
    "tickString": mm.TickString(reqId=5, tickType=45, value=str(EPOCH)),
    "tickGeneric": mm.TickGeneric(reqId=5, tickType=49, value=Decimal(1)),
    "tickSnapshotEnd": mm.TickSnapshotEnd(reqId=5),
    "marketDataType": mm.MarketDataType(reqId=5, marketDataType=3),
    "tickReqParams": mm.TickReqParams(
        reqId=5, minTick=Decimal("0.01"), bboExchange="9c0001", snapshotPermissions=3
    ),
    "tickOptionComputation": mm.TickOptionComputation(
        reqId=6,
        tickType=13,
        tickAttrib=0,
        impliedVol=Decimal("0.26"),
        delta=Decimal("0.512345"),
        optPrice=Decimal("4.123456"),
        pvDividend=Decimal("0"),
        gamma=Decimal("0.045"),
        vega=Decimal("0.21"),
        theta=Decimal("-0.08"),
        undPrice=Decimal("185.595"),
    ),
    "tickByTick-Last": mm.TickByTickAllLast(
        reqId=7,
        tickType=2,
        time=T0,
        price=Decimal("185.6"),
        size=Decimal(200),
        mask=2,
        exchange="NASDAQ",
        specialConditions="T",
    ),
    "tickByTick-BidAsk": mm.TickByTickBidAsk(
        reqId=7,
        time=T0,
        bidPrice=Decimal("185.59"),
        askPrice=Decimal("185.6"),
        bidSize=Decimal(300),
        askSize=Decimal(400),
        mask=1,
    ),
    "tickByTick-MidPoint": mm.TickByTickMidPoint(reqId=7, time=T0, midPoint=Decimal("185.595")),
    "realTimeBar": mm.RealTimeBar(
        reqId=8,
        time=T0,
        open=Decimal("185.6"),
        high=Decimal("185.62"),
        low=Decimal("185.58"),
        close=Decimal("185.61"),
        volume=Decimal(2300),
        wap=Decimal("185.6012"),
        count=23,
    ),
    # one wrapper call per sample for the shared round-trip test: the bars are checked in
    # test_roundtrip_market.py
    "historicalData": mm.HistoricalData(
        reqId=9,
        startDateStr="20231201 09:30:00 US/Eastern",
        endDateStr="20240102 09:30:05 US/Eastern",
        bars=(),
    ),
    "historicalDataUpdate": mm.HistoricalDataUpdate(reqId=9, bar=BAR),
    "headTimestamp": mm.HeadTimestamp(reqId=10, headTimestamp="20040102-14:30:00"),
    "symbolSamples": mm.SymbolSamples(
        reqId=11,
        descriptions=(
            mm.ContractDescription(
                contract=AAPL, derivativeSecTypes=("OPT", "WAR"), description="APPLE INC"
            ),
        ),
    ),
    "securityDefinitionOptionParameter": mm.SecurityDefinitionOptionParameter(
        reqId=12,
        exchange="SMART",
        underlyingConId=265598,
        tradingClass="AAPL",
        multiplier="100",
        expirations=("20240119", "20240216"),
        strikes=(Decimal(180), Decimal("182.5"), Decimal(185)),
    ),
    "securityDefinitionOptionParameterEnd": mm.SecurityDefinitionOptionParameterEnd(reqId=12),
}


def _plain(value: Any) -> Any:
    """A client object as comparable data (its public attributes), lists element-wise."""
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__") or hasattr(value, "__dataclass_fields__"):
        names = getattr(value, "__dataclass_fields__", None) or vars(value)
        return {n: _plain(getattr(value, n)) for n in names if not n.startswith("_")}
    return value


def _args(*expected: Any) -> Callable[[Call, int], None]:
    """The one call of ib_async / ib_insync, compared on plain data."""

    def check(call: Call, version: int) -> None:
        assert _plain(list(call.args)) == _plain(list(expected)), call

    return check


def _named(name: str, check: Callable[[Call, int], None]) -> Callable[[Call, int], None]:
    def named(call: Call, version: int) -> None:
        assert call.name == name, call
        check(call, version)

    return named


def _bar_update(call: Call, version: int) -> None:
    assert call.name == "historicalDataUpdate"
    req_id, bar = call.args
    got = (bar.date, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.average, bar.barCount)
    assert (req_id, got) == (
        9,
        ("20240102 09:30:00 US/Eastern", 185.6, 186.25, 185.01, 186.1, 120300.0, 185.7731, 1203),
    )


def _symbol_samples(call: Call, version: int) -> None:
    assert call.name == "symbolSamples"
    req_id, descriptions = call.args
    (d,) = descriptions
    c = d.contract
    got = (req_id, int(c.conId), c.symbol, c.secType, c.primaryExchange, c.currency)
    assert got == (11, 265598, "AAPL", "STK", "NASDAQ", "USD")
    assert list(d.derivativeSecTypes) == ["OPT", "WAR"]
    if version >= 176:
        assert c.description == "APPLE INC"


_CHECKS: dict[str, Callable[[Call, int], None]] = {
    "tickPrice": _named("priceSizeTick", _args(5, 1, 185.59, 300.0)),
    "tickSize": _named("tickSize", _args(5, 8, 1234500.0)),
    "tickString": _named("tickString", _args(5, 45, str(EPOCH))),
    "tickGeneric": _named("tickGeneric", _args(5, 49, 1.0)),
    "tickSnapshotEnd": _named("tickSnapshotEnd", _args(5)),
    "marketDataType": _named("marketDataType", _args(5, 3)),
    "tickReqParams": _named("tickReqParams", _args(5, 0.01, "9c0001", 3)),
    "tickOptionComputation": _named(
        "tickOptionComputation",
        _args(6, 13, 0, 0.26, 0.512345, 4.123456, 0.0, 0.045, 0.21, -0.08, 185.595),
    ),
    "tickByTick-Last": lambda call, v: _check_tbt_last(call),
    "tickByTick-BidAsk": lambda call, v: _check_tbt_bid_ask(call),
    "tickByTick-MidPoint": _named("tickByTickMidPoint", _args(7, EPOCH, 185.595)),
    "realTimeBar": _named(
        "realtimeBar", _args(8, EPOCH, 185.6, 185.62, 185.58, 185.61, 2300.0, 185.6012, 23)
    ),
    "historicalData": _named(
        "historicalDataEnd",
        _args(9, "20231201 09:30:00 US/Eastern", "20240102 09:30:05 US/Eastern"),
    ),
    "historicalDataUpdate": _bar_update,
    "headTimestamp": _named("headTimestamp", _args(10, "20040102-14:30:00")),
    "symbolSamples": _symbol_samples,
    "securityDefinitionOptionParameter": _named(
        "securityDefinitionOptionParameter",
        _args(
            12, "SMART", "265598", "AAPL", "100", ["20240119", "20240216"], [180.0, 182.5, 185.0]
        ),
    ),
    "securityDefinitionOptionParameterEnd": _named(
        "securityDefinitionOptionParameterEnd", _args(12)
    ),
}


def _check_tbt_last(call: Call) -> None:
    assert call.name == "tickByTickAllLast"
    req_id, tick_type, time, price, size, attrib, exchange, conditions = call.args
    assert (req_id, tick_type, time, price, size, exchange, conditions) == (
        7, 2, EPOCH, 185.6, 200.0, "NASDAQ", "T",
    )  # fmt: skip
    assert (attrib.pastLimit, attrib.unreported) == (False, True)


def _check_tbt_bid_ask(call: Call) -> None:
    assert call.name == "tickByTickBidAsk"
    req_id, time, bid, ask, bid_size, ask_size, attrib = call.args
    assert (req_id, time, bid, ask, bid_size, ask_size) == (7, EPOCH, 185.59, 185.6, 300.0, 400.0)
    assert (attrib.bidPastLow, attrib.askPastHigh) == (True, False)


# What ibapi 9.81's EWrapper gets (server version 157): (method, args) per call, in order.
IBAPI_CALLS: dict[str, list[tuple[str, tuple[Any, ...]]]] = {
    "tickPrice": [("tickPrice", (5, 1, 185.59)), ("tickSize", (5, 0, 300))],
    "tickSize": [("tickSize", (5, 8, 1234500))],
    "tickString": [("tickString", (5, 45, str(EPOCH)))],
    "tickGeneric": [("tickGeneric", (5, 49, 1.0))],
    "tickSnapshotEnd": [("tickSnapshotEnd", (5,))],
    "marketDataType": [("marketDataType", (5, 3))],
    "tickReqParams": [("tickReqParams", (5, 0.01, "9c0001", 3))],
    "tickOptionComputation": [
        (
            "tickOptionComputation",
            (6, 13, 0, 0.26, 0.512345, 4.123456, 0.0, 0.045, 0.21, -0.08, 185.595),
        )
    ],
    "tickByTick-Last": [("tickByTickAllLast", (7, 2, EPOCH, 185.6, 200, "NASDAQ", "T"))],
    "tickByTick-BidAsk": [("tickByTickBidAsk", (7, EPOCH, 185.59, 185.6, 300, 400))],
    "tickByTick-MidPoint": [("tickByTickMidPoint", (7, EPOCH, 185.595))],
    "realTimeBar": [("realtimeBar", (8, EPOCH, 185.6, 185.62, 185.58, 185.61, 2300, 185.6012, 23))],
    "historicalData": [
        (
            "historicalDataEnd",
            (9, "20231201 09:30:00 US/Eastern", "20240102 09:30:05 US/Eastern"),
        )
    ],
    "historicalDataUpdate": [
        (
            "historicalDataUpdate",
            (
                9,
                1203,
                "20240102 09:30:00 US/Eastern",
                185.6,
                186.1,
                186.25,
                185.01,
                185.7731,
                120300,
            ),
        )
    ],
    "headTimestamp": [("headTimestamp", (10, "20040102-14:30:00"))],
    "symbolSamples": [("symbolSamples", (11, 265598, "AAPL", "STK", "NASDAQ", "USD", "OPT,WAR"))],
    "securityDefinitionOptionParameter": [
        (
            "securityDefinitionOptionParameter",
            (12, "SMART", 265598, "AAPL", "100", "20240119,20240216", "180.0,182.5,185.0"),
        )
    ],
    "securityDefinitionOptionParameterEnd": [("securityDefinitionOptionParameterEnd", (12,))],
}


def market_samples(sample_type: Any) -> list[Any]:
    """The samples as `samples.Sample`s (its class is passed in: no import cycle)."""
    return [
        sample_type(
            name,
            lambda v, message=message: encode_message(message, v),
            _CHECKS[name],
            type(message),
        )
        for name, message in MARKET_MESSAGES.items()
    ]
