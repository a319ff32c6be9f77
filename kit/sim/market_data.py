"""Streaming market data at the simulated TWS: reqMktData, tick-by-tick and 5-second bars.

Owns the subscriptions of every session and what they are told when broker time moves
(`publish`, called by SimBroker after the clock advances). Prices come from the broker's
`Market` only. Per subscription TWS's order is kept: tickReqParams, marketDataType, then the
current values (bid, ask, last with their sizes, high, low, volume, close, open, the last
timestamp; for options the bid/ask/last/model option computations); a snapshot ends with
tickSnapshotEnd and is forgotten; a stream afterwards sends only what changed. Delayed data
(market data type 3 or 4) uses IB's delayed tick types and is 15 minutes old. A contract the
catalog does not know answers error 200; a halted instrument ticks halted (49) = 1 and stops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from ibguard.kit.sim.clock import VirtualClock
from ibguard.kit.sim.delivery import Client, Delivery
from ibguard.kit.sim.instruments import NO_SECURITY_DEFINITION, Catalog, Instrument
from ibguard.kit.sim.market import Market
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
from ibguard.kit.sim.messages import Contract, Error, TwsMessage

__all__ = ["DELAY", "MarketDataDesk"]

DELAY: Final = timedelta(minutes=15)  # how old delayed data is
# tick type ids: (live, delayed)
_BID, _ASK, _LAST = (1, 66), (2, 67), (4, 68)
_BID_SIZE, _ASK_SIZE, _LAST_SIZE = (0, 69), (3, 70), (5, 71)
_HIGH, _LOW, _VOLUME, _CLOSE, _OPEN = (6, 72), (7, 73), (8, 74), (9, 75), (14, 76)
_LAST_TIMESTAMP = (45, 88)
_OPTION = {"bid": (10, 80), "ask": (11, 81), "last": (12, 82), "model": (13, 83)}
_HALTED: Final = 49
_TBT_TYPES: Final = {"Last": 1, "AllLast": 2, "BidAsk": 3, "MidPoint": 4}
_SIX = Decimal("0.000001")


@dataclass
class _Stream:
    session: Client
    req_id: int
    instrument: Instrument
    kind: str  # "mkt", "tbt:<type>", "bars"
    delayed: bool = False
    sent: dict[int, object] = field(default_factory=dict)  # tick type -> last value sent
    last_bar: datetime | None = None  # real-time bars: the start of the next bar to send
    what: str = "TRADES"
    rth: bool = False


class MarketDataDesk:
    """`halted(instrument)`: whether trading in it is halted (the security master knows)."""

    def __init__(
        self,
        *,
        clock: VirtualClock,
        catalog: Catalog,
        market: Market,
        delivery: Delivery,
        halted: Callable[[Instrument], bool],
    ) -> None:
        self._clock = clock
        self._catalog = catalog
        self._market = market
        self._delivery = delivery
        self._halted = halted
        self._streams: dict[tuple[int, int], _Stream] = {}  # (clientId, reqId)
        self._data_type: dict[int, int] = {}  # clientId -> reqMarketDataType

    # --- requests ----------------------------------------------------------------------

    def set_data_type(self, session: Client, data_type: int) -> None:
        if not 1 <= data_type <= 4:
            text = (
                "Error validating request:-'bj' : cause - Invalid market data type "
                f"{data_type} (1 live, 2 frozen, 3 delayed, 4 delayed frozen)"
            )
            self._error(session, -1, 321, text)
            return
        self._data_type[session.client_id] = data_type
        for stream in self._of(session):
            if stream.kind == "mkt":
                self._delivery.post(
                    session, MarketDataType(reqId=stream.req_id, marketDataType=data_type)
                )
                stream.delayed = data_type >= 3
                stream.sent.clear()
                self._send_changes(stream, self._clock.broker_now())

    def subscribe(
        self, session: Client, req_id: int, contract: Contract, *, snapshot: bool
    ) -> None:
        instrument = self.resolve(session, req_id, contract)
        if instrument is None:
            return
        data_type = self._data_type.get(session.client_id, 1)
        stream = _Stream(session, req_id, instrument, "mkt", delayed=data_type >= 3)
        self._delivery.post(
            session,
            TickReqParams(
                reqId=req_id,
                minTick=instrument.min_tick,
                bboExchange="9c0001" if instrument.sec_type == "STK" else "",
                snapshotPermissions=3,
            ),
        )
        self._delivery.post(session, MarketDataType(reqId=req_id, marketDataType=data_type))
        self._send_changes(stream, self._clock.broker_now())
        if snapshot:
            self._delivery.post(session, TickSnapshotEnd(reqId=req_id))
        else:
            self._streams[(session.client_id, req_id)] = stream

    def subscribe_tick_by_tick(
        self, session: Client, req_id: int, contract: Contract, tick_type: str
    ) -> None:
        if tick_type not in _TBT_TYPES:
            text = f"Error validating request:-'bW' : cause - Invalid tick type: {tick_type}"
            self._error(session, req_id, 321, text)
            return
        instrument = self.resolve(session, req_id, contract)
        if instrument is None:
            return
        stream = _Stream(session, req_id, instrument, f"tbt:{tick_type}")
        self._streams[(session.client_id, req_id)] = stream
        self._send_changes(stream, self._clock.broker_now())

    def subscribe_bars(
        self,
        session: Client,
        req_id: int,
        contract: Contract,
        *,
        bar_size: int,
        what: str,
        rth: bool,
    ) -> None:
        if bar_size != 5:
            text = "Error validating request:-'bX' : cause - Invalid bar size: only 5 seconds"
            self._error(session, req_id, 321, text)
            return
        if what.upper() not in {"TRADES", "MIDPOINT", "BID", "ASK"}:
            text = f"Error validating request:-'bX' : cause - Invalid whatToShow: {what}"
            self._error(session, req_id, 321, text)
            return
        instrument = self.resolve(session, req_id, contract)
        if instrument is None:
            return
        now = self._clock.broker_now()
        start = _floor(now, 5)
        stream = _Stream(session, req_id, instrument, "bars", what=what.upper(), rth=rth)
        stream.last_bar = start
        self._streams[(session.client_id, req_id)] = stream

    def cancel(self, session: Client, req_id: int) -> None:
        """cancelMktData / cancelTickByTickData / cancelRealTimeBars: silence, as in TWS."""
        self._streams.pop((session.client_id, req_id), None)

    def forget(self, session: Client) -> None:
        """The session closed: its subscriptions end."""
        for key in [k for k in self._streams if k[0] == session.client_id]:
            del self._streams[key]

    def resolve(self, session: Client, req_id: int, contract: Contract) -> Instrument | None:
        """The one instrument `contract` names, or error 200 (none, or ambiguous)."""
        found = self._catalog.find(contract)
        if len(found) == 1:
            return found[0]
        text = NO_SECURITY_DEFINITION
        if found:
            text = f"The contract description specified for {contract.symbol} is ambiguous."
        self._error(session, req_id, 200, text)
        return None

    # --- time moves ----------------------------------------------------------------------

    def publish(self) -> None:
        """Tell every stream what changed by now (SimBroker calls this after time moves)."""
        now = self._clock.broker_now()
        for stream in list(self._streams.values()):
            if stream.session.connected:
                self._send_changes(stream, now)
            else:
                self._streams.pop((stream.session.client_id, stream.req_id), None)

    @property
    def streams(self) -> int:
        return len(self._streams)

    def _of(self, session: Client) -> list[_Stream]:
        return [s for (cid, _), s in self._streams.items() if cid == session.client_id]

    def _send_changes(self, stream: _Stream, now: datetime) -> None:
        if stream.kind == "bars":
            self._send_bars(stream, now)
            return
        halted = 1 if self._halted(stream.instrument) else 0
        if stream.sent.get(_HALTED, 0) != halted:  # halted 1, and 0 again when it resumes
            stream.sent[_HALTED] = halted
            self._post(
                stream, TickGeneric(reqId=stream.req_id, tickType=_HALTED, value=Decimal(halted))
            )
        if halted:
            return
        if stream.kind == "mkt":
            self._send_quote_ticks(stream, now - DELAY if stream.delayed else now)
        else:
            self._send_tick_by_tick(stream, now)

    def _send_quote_ticks(self, stream: _Stream, when: datetime) -> None:
        market = self._market
        inst = stream.instrument
        quote = market.quote(inst, when)
        d = 1 if stream.delayed else 0
        rid = stream.req_id
        prices = (
            (_BID, quote.bid, quote.bid_size),
            (_ASK, quote.ask, quote.ask_size),
            (_LAST, quote.last, quote.last_size),
        )
        for types, price, size in prices:
            key = types[d]
            if stream.sent.get(key) != (price, size):
                stream.sent[key] = (price, size)
                self._post(stream, TickPrice(reqId=rid, tickType=key, price=price, size=size))
        day = market.day_stats(inst, when)
        values = ((_HIGH, day.high), (_LOW, day.low), (_CLOSE, day.prior_close), (_OPEN, day.open))
        for types, level in values:
            if level is not None and stream.sent.get(types[d]) != level:
                stream.sent[types[d]] = level
                self._post(
                    stream, TickPrice(reqId=rid, tickType=types[d], price=level, size=Decimal(0))
                )
        if stream.sent.get(_VOLUME[d]) != day.volume:
            stream.sent[_VOLUME[d]] = day.volume
            self._post(stream, TickSize(reqId=rid, tickType=_VOLUME[d], size=day.volume))
        stamp = str(int(quote.time.timestamp()))
        if stream.sent.get(_LAST_TIMESTAMP[d]) != stamp:
            stream.sent[_LAST_TIMESTAMP[d]] = stamp
            self._post(stream, TickString(reqId=rid, tickType=_LAST_TIMESTAMP[d], value=stamp))
        if inst.sec_type == "OPT":
            self._send_option_ticks(stream, when, d)

    def _send_option_ticks(self, stream: _Stream, when: datetime, d: int) -> None:
        analytics = self._market.option_analytics(stream.instrument, when)
        g = analytics.greeks
        values = (analytics.implied_vol, g.delta, g.price, 0.0, g.gamma, g.vega, g.theta)
        iv, delta, price, pv, gamma, vega, theta = (_six(v) for v in values)
        for types in _OPTION.values():
            key = types[d]
            snapshot = (iv, delta, price, gamma, vega, theta, analytics.underlying_price)
            if stream.sent.get(key) == snapshot:
                continue
            stream.sent[key] = snapshot
            self._post(
                stream,
                TickOptionComputation(
                    reqId=stream.req_id,
                    tickType=key,
                    tickAttrib=0,
                    impliedVol=iv,
                    delta=delta,
                    optPrice=price,
                    pvDividend=pv,
                    gamma=gamma,
                    vega=vega,
                    theta=theta,
                    undPrice=analytics.underlying_price,
                ),
            )

    def _send_tick_by_tick(self, stream: _Stream, now: datetime) -> None:
        quote = self._market.quote(stream.instrument, now)
        kind = stream.kind.split(":", 1)[1]
        rid = stream.req_id
        message: TwsMessage
        if kind in {"Last", "AllLast"}:
            value: object = (quote.last, quote.last_size, int(now.timestamp()))
            message = TickByTickAllLast(
                reqId=rid,
                tickType=_TBT_TYPES[kind],
                time=now,
                price=quote.last,
                size=quote.last_size,
                exchange=stream.instrument.primary_exchange or stream.instrument.exchange,
            )
        elif kind == "BidAsk":
            value = (quote.bid, quote.ask, quote.bid_size, quote.ask_size)
            message = TickByTickBidAsk(
                reqId=rid,
                time=now,
                bidPrice=quote.bid,
                askPrice=quote.ask,
                bidSize=quote.bid_size,
                askSize=quote.ask_size,
            )
        else:
            mid = quote.mid
            value = mid
            message = TickByTickMidPoint(reqId=rid, time=now, midPoint=mid)
        if stream.sent.get(0) != value:
            stream.sent[0] = value
            self._post(stream, message)

    def _send_bars(self, stream: _Stream, now: datetime) -> None:
        start = stream.last_bar
        assert start is not None  # set when subscribed
        newest = _floor(now, 5)
        if newest - start > timedelta(hours=1):  # a long jump: only the last hour's bars
            start = newest - timedelta(hours=1)
        market = self._market
        while start + timedelta(seconds=5) <= now:
            end = start + timedelta(seconds=5)
            bar = market.bar(stream.instrument, start, end, rth=stream.rth, samples=5)
            if bar is not None:
                shift = market.side_shift(stream.instrument, stream.what)
                self._post(
                    stream,
                    RealTimeBar(
                        reqId=stream.req_id,
                        time=start,
                        open=bar.open + shift,
                        high=bar.high + shift,
                        low=bar.low + shift,
                        close=bar.close + shift,
                        volume=bar.volume if stream.what == "TRADES" else Decimal(-1),
                        wap=bar.wap + shift,
                        count=bar.count if stream.what == "TRADES" else -1,
                    ),
                )
            start = end
        stream.last_bar = start

    def _post(self, stream: _Stream, message: TwsMessage) -> None:
        self._delivery.post(stream.session, message)

    def _error(self, session: Client, req_id: int, code: int, text: str) -> None:
        self._delivery.post(session, Error(reqId=req_id, errorCode=code, errorString=text))


def _floor(when: datetime, seconds: int) -> datetime:
    stamp = int(when.timestamp())
    return when - timedelta(seconds=stamp % seconds, microseconds=when.microsecond)


def _six(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_SIX)
