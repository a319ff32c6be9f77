"""Market-data and history requests: their wire form, decoders and handlers.

Each request is decoded as the clients encode it at server versions 157..178 (ib_async
`client.py`, ibapi 9.81 `client.py`, identical for these): the 12 contract fields
(conId .. tradingClass with primaryExchange), then the request's own. Combo (BAG) legs are
read and refused with error 200: the paper TWS quotes no combos. Every request goes through
`SimBroker.handle_request` (pacing, the request log) and is answered by the broker's market
data or history desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from ibguard.kit.gateway.inbound_order import read_contract
from ibguard.kit.gateway.message_ids import In
from ibguard.kit.gateway.registry import Reply, TwsRequest, decodes, serves
from ibguard.kit.gateway.wire_values import FieldCursor
from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.messages import Contract, Error
from ibguard.kit.sim.session import ApiSession

__all__ = [
    "CancelHeadTimeStamp",
    "CancelHistoricalData",
    "CancelMktData",
    "CancelRealTimeBars",
    "CancelTickByTickData",
    "ReqHeadTimeStamp",
    "ReqHistoricalData",
    "ReqMarketDataType",
    "ReqMatchingSymbols",
    "ReqMktData",
    "ReqRealTimeBars",
    "ReqSecDefOptParams",
    "ReqTickByTickData",
]

_COMBO_REFUSED = "No security definition has been found for the request (combos are not quoted)"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqMktData(TwsRequest):
    req_id: int
    contract: Contract
    combo_legs: int
    generic_ticks: str
    snapshot: bool
    regulatory_snapshot: bool
    options: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelMktData(TwsRequest):
    req_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqMarketDataType(TwsRequest):
    market_data_type: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqTickByTickData(TwsRequest):
    req_id: int
    contract: Contract
    tick_type: str
    number_of_ticks: int
    ignore_size: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTickByTickData(TwsRequest):
    req_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqRealTimeBars(TwsRequest):
    req_id: int
    contract: Contract
    bar_size: int
    what_to_show: str
    use_rth: bool
    options: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRealTimeBars(TwsRequest):
    req_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqHistoricalData(TwsRequest):
    req_id: int
    contract: Contract
    include_expired: bool
    end_date_time: str
    bar_size: str
    duration: str
    use_rth: bool
    what_to_show: str
    format_date: int
    combo_legs: int
    keep_up_to_date: bool
    chart_options: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelHistoricalData(TwsRequest):
    req_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqHeadTimeStamp(TwsRequest):
    req_id: int
    contract: Contract
    include_expired: bool
    use_rth: bool
    what_to_show: str
    format_date: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelHeadTimeStamp(TwsRequest):
    req_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqMatchingSymbols(TwsRequest):
    req_id: int
    pattern: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqSecDefOptParams(TwsRequest):
    req_id: int
    underlying_symbol: str
    fut_fop_exchange: str
    underlying_sec_type: str
    underlying_con_id: int


# --- decoders -------------------------------------------------------------------------


def _legs(cur: FieldCursor, contract: Contract) -> int:
    """Combo legs (conId, ratio, action, exchange each) follow a BAG contract."""
    if contract.secType != "BAG":
        return 0
    count = cur.read_int("comboLegsCount")
    cur.skip("comboLeg", 4 * max(count, 0))
    return count


@decodes(In.REQ_MKT_DATA)
def read_req_mkt_data(cur: FieldCursor, version: int) -> ReqMktData:
    cur.skip("message version")
    req_id = cur.read_int("reqId")
    contract = read_contract(cur, with_sec_id=False)
    legs = _legs(cur, contract)
    if cur.read_bool("deltaNeutralContract"):
        cur.skip("deltaNeutral conId, delta, price", 3)
    return ReqMktData(
        req_id=req_id,
        contract=contract,
        combo_legs=legs,
        generic_ticks=cur.read_str("genericTickList"),
        snapshot=cur.read_bool("snapshot"),
        regulatory_snapshot=cur.read_bool("regulatorySnapshot"),
        options=cur.read_str("mktDataOptions"),
    )


@decodes(In.CANCEL_MKT_DATA)
def read_cancel_mkt_data(cur: FieldCursor, version: int) -> CancelMktData:
    cur.skip("message version")
    return CancelMktData(req_id=cur.read_int("reqId"))


@decodes(In.REQ_MARKET_DATA_TYPE)
def read_req_market_data_type(cur: FieldCursor, version: int) -> ReqMarketDataType:
    cur.skip("message version")
    return ReqMarketDataType(market_data_type=cur.read_int("marketDataType"))


@decodes(In.REQ_TICK_BY_TICK_DATA)
def read_req_tick_by_tick(cur: FieldCursor, version: int) -> ReqTickByTickData:
    req_id = cur.read_int("reqId")
    contract = read_contract(cur, with_sec_id=False)
    return ReqTickByTickData(
        req_id=req_id,
        contract=contract,
        tick_type=cur.read_str("tickType"),
        number_of_ticks=cur.read_int("numberOfTicks"),
        ignore_size=cur.read_bool("ignoreSize"),
    )


@decodes(In.CANCEL_TICK_BY_TICK_DATA)
def read_cancel_tick_by_tick(cur: FieldCursor, version: int) -> CancelTickByTickData:
    return CancelTickByTickData(req_id=cur.read_int("reqId"))


@decodes(In.REQ_REAL_TIME_BARS)
def read_req_real_time_bars(cur: FieldCursor, version: int) -> ReqRealTimeBars:
    cur.skip("message version")
    req_id = cur.read_int("reqId")
    contract = read_contract(cur, with_sec_id=False)
    return ReqRealTimeBars(
        req_id=req_id,
        contract=contract,
        bar_size=cur.read_int("barSize"),
        what_to_show=cur.read_str("whatToShow"),
        use_rth=cur.read_bool("useRTH"),
        options=cur.read_str("realTimeBarsOptions"),
    )


@decodes(In.CANCEL_REAL_TIME_BARS)
def read_cancel_real_time_bars(cur: FieldCursor, version: int) -> CancelRealTimeBars:
    cur.skip("message version")
    return CancelRealTimeBars(req_id=cur.read_int("reqId"))


@decodes(In.REQ_HISTORICAL_DATA)
def read_req_historical_data(cur: FieldCursor, version: int) -> ReqHistoricalData:
    req_id = cur.read_int("reqId")  # no message version from server version 124
    contract = read_contract(cur, with_sec_id=False)
    include_expired = cur.read_bool("includeExpired")
    end = cur.read_str("endDateTime")
    bar_size = cur.read_str("barSizeSetting")
    duration = cur.read_str("durationStr")
    use_rth = cur.read_bool("useRTH")
    what = cur.read_str("whatToShow")
    format_date = cur.read_int("formatDate")
    legs = _legs(cur, contract)
    return ReqHistoricalData(
        req_id=req_id,
        contract=contract,
        include_expired=include_expired,
        end_date_time=end,
        bar_size=bar_size,
        duration=duration,
        use_rth=use_rth,
        what_to_show=what,
        format_date=format_date,
        combo_legs=legs,
        keep_up_to_date=cur.read_bool("keepUpToDate"),
        chart_options=cur.read_str("chartOptions"),
    )


@decodes(In.CANCEL_HISTORICAL_DATA)
def read_cancel_historical_data(cur: FieldCursor, version: int) -> CancelHistoricalData:
    cur.skip("message version")
    return CancelHistoricalData(req_id=cur.read_int("reqId"))


@decodes(In.REQ_HEAD_TIMESTAMP)
def read_req_head_timestamp(cur: FieldCursor, version: int) -> ReqHeadTimeStamp:
    req_id = cur.read_int("reqId")
    contract = read_contract(cur, with_sec_id=False)
    return ReqHeadTimeStamp(
        req_id=req_id,
        contract=contract,
        include_expired=cur.read_bool("includeExpired"),
        use_rth=cur.read_bool("useRTH"),
        what_to_show=cur.read_str("whatToShow"),
        format_date=cur.read_int("formatDate"),
    )


@decodes(In.CANCEL_HEAD_TIMESTAMP)
def read_cancel_head_timestamp(cur: FieldCursor, version: int) -> CancelHeadTimeStamp:
    return CancelHeadTimeStamp(req_id=cur.read_int("reqId"))


@decodes(In.REQ_MATCHING_SYMBOLS)
def read_req_matching_symbols(cur: FieldCursor, version: int) -> ReqMatchingSymbols:
    return ReqMatchingSymbols(req_id=cur.read_int("reqId"), pattern=cur.read_str("pattern"))


@decodes(In.REQ_SEC_DEF_OPT_PARAMS)
def read_req_sec_def_opt_params(cur: FieldCursor, version: int) -> ReqSecDefOptParams:
    return ReqSecDefOptParams(
        req_id=cur.read_int("reqId"),
        underlying_symbol=cur.read_str("underlyingSymbol"),
        fut_fop_exchange=cur.read_str("futFopExchange"),
        underlying_sec_type=cur.read_str("underlyingSecType"),
        underlying_con_id=cur.read_int("underlyingConId"),
    )


# --- handlers -------------------------------------------------------------------------


def _refuse_combo(b: SimBroker, s: ApiSession, req_id: int) -> None:
    b.post(s, Error(reqId=req_id, errorCode=200, errorString=_COMBO_REFUSED))


@serves(ReqMktData)
def _mkt_data(r: ReqMktData, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    def act() -> None:
        if r.contract.secType == "BAG":
            _refuse_combo(b, s, r.req_id)
        else:
            b.market_data.subscribe(s, r.req_id, r.contract, snapshot=r.snapshot)

    b.handle_request(s, "reqMktData", act, symbol=r.contract.symbol)


@serves(CancelMktData)
def _cancel_mkt_data(r: CancelMktData, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(s, "cancelMktData", lambda: b.market_data.cancel(s, r.req_id))


@serves(ReqMarketDataType)
def _data_type(r: ReqMarketDataType, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(
        s, "reqMarketDataType", lambda: b.market_data.set_data_type(s, r.market_data_type)
    )


@serves(ReqTickByTickData)
def _tick_by_tick(r: ReqTickByTickData, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(
        s,
        "reqTickByTickData",
        lambda: b.market_data.subscribe_tick_by_tick(s, r.req_id, r.contract, r.tick_type),
        symbol=r.contract.symbol,
    )


@serves(CancelTickByTickData)
def _cancel_tick_by_tick(
    r: CancelTickByTickData, s: ApiSession, b: SimBroker, reply: Reply
) -> None:
    b.handle_request(s, "cancelTickByTickData", lambda: b.market_data.cancel(s, r.req_id))


@serves(ReqRealTimeBars)
def _real_time_bars(r: ReqRealTimeBars, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(
        s,
        "reqRealTimeBars",
        lambda: b.market_data.subscribe_bars(
            s, r.req_id, r.contract, bar_size=r.bar_size, what=r.what_to_show, rth=r.use_rth
        ),
        symbol=r.contract.symbol,
    )


@serves(CancelRealTimeBars)
def _cancel_bars(r: CancelRealTimeBars, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(s, "cancelRealTimeBars", lambda: b.market_data.cancel(s, r.req_id))


@serves(ReqHistoricalData)
def _historical(r: ReqHistoricalData, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    def act() -> None:
        if r.contract.secType == "BAG":
            _refuse_combo(b, s, r.req_id)
            return
        b.history.historical_data(
            s,
            r.req_id,
            r.contract,
            end=r.end_date_time,
            duration=r.duration,
            bar_size=r.bar_size,
            what=r.what_to_show,
            use_rth=r.use_rth,
            format_date=r.format_date,
            keep_up_to_date=r.keep_up_to_date,
        )

    b.handle_request(s, "reqHistoricalData", act, symbol=r.contract.symbol)


@serves(CancelHistoricalData)
def _cancel_historical(r: CancelHistoricalData, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(s, "cancelHistoricalData", lambda: b.history.cancel(s, r.req_id))


@serves(ReqHeadTimeStamp)
def _head(r: ReqHeadTimeStamp, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(
        s,
        "reqHeadTimeStamp",
        lambda: b.history.head_timestamp(s, r.req_id, r.contract, r.what_to_show, r.format_date),
        symbol=r.contract.symbol,
    )


@serves(CancelHeadTimeStamp)
def _cancel_head(r: CancelHeadTimeStamp, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(s, "cancelHeadTimeStamp", lambda: None)  # answered at once: nothing to stop


@serves(ReqMatchingSymbols)
def _matching(r: ReqMatchingSymbols, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(
        s, "reqMatchingSymbols", lambda: b.history.matching_symbols(s, r.req_id, r.pattern)
    )


@serves(ReqSecDefOptParams)
def _sec_def(r: ReqSecDefOptParams, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(
        s,
        "reqSecDefOptParams",
        lambda: b.history.sec_def_opt_params(
            s,
            r.req_id,
            symbol=r.underlying_symbol,
            exchange=r.fut_fop_exchange,
            sec_type=r.underlying_sec_type,
            con_id=r.underlying_con_id,
        ),
        symbol=r.underlying_symbol,
    )
