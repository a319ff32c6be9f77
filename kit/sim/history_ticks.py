"""reqHistoricalTicks at the simulated TWS: time and sales, bid/ask and midpoint history from
the price model, one second at a time.

Owns reading the request as TWS does (exactly one of startDateTime / endDateTime, in the
forms reqHistoricalData takes; numberOfTicks up to `MAX_TICKS`, IB's documented cap; useRth:
the liquid sessions only) and building the ticks. The model quotes one value per second
(`Market.quote`), the same the tick-by-tick stream sends, so:
- TRADES (historicalTicksLast): one trade a second while the market trades, at the quote's
  last price and size, on the primary exchange;
- BID_ASK (historicalTicksBidAsk): a tick each second the bid, ask or their sizes changed
  (with ignoreSize: the bid or ask);
- MIDPOINT (historicalTicks): a tick each second the mid changed, size 0.
From a start, the first ticks at or after it; to an end, the last ticks before it, in time
order either way, all in one message with done = true (TWS's usual answer for up to 1000).
Nothing after now. Errors: an unknown contract 200; TRADES for FX 162 (no trades, as for
bars); a malformed request (both or neither time, a bad time, numberOfTicks < 1, another
whatToShow) 321. miscOptions changes nothing here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from ibguard.kit.sim.clock import VirtualClock
from ibguard.kit.sim.delivery import Client, Delivery
from ibguard.kit.sim.history import RequestRefused, parse_end
from ibguard.kit.sim.instruments import NO_SECURITY_DEFINITION, Catalog, Instrument
from ibguard.kit.sim.market import Market
from ibguard.kit.sim.market_messages import (
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
    HistoricalTicks,
    HistoricalTicksBidAsk,
    HistoricalTicksLast,
)
from ibguard.kit.sim.messages import Contract, Error, TwsMessage
from ibguard.kit.sim.prices import Quote

__all__ = ["MAX_SCAN", "MAX_TICKS", "TickHistory"]

MAX_TICKS: Final = 1000
MAX_SCAN: Final = 100_000  # seconds of trading looked at per request (about 4 RTH days)
_SECOND: Final = timedelta(seconds=1)
_ZERO: Final = Decimal(0)
_LOOKBACK: Final = timedelta(days=14)
_WHAT: Final = ("TRADES", "BID_ASK", "MIDPOINT")
_INVALID: Final = "Error validating request:-'bW' : cause - "


class TickHistory:
    def __init__(
        self, *, clock: VirtualClock, catalog: Catalog, market: Market, delivery: Delivery
    ) -> None:
        self._clock = clock
        self._catalog = catalog
        self._market = market
        self._delivery = delivery

    def answer(
        self,
        session: Client,
        req_id: int,
        contract: Contract,
        *,
        start: str,
        end: str,
        number: int,
        what: str,
        use_rth: bool,
        ignore_size: bool = False,
    ) -> None:
        try:
            message = self._ticks(
                req_id,
                contract,
                start_text=start,
                end_text=end,
                number=number,
                what=what.upper(),
                use_rth=use_rth,
                ignore_size=ignore_size,
            )
        except RequestRefused as refused:
            message = Error(reqId=req_id, errorCode=refused.code, errorString=refused.text)
        self._delivery.post(session, message)

    def _ticks(
        self,
        req_id: int,
        contract: Contract,
        *,
        start_text: str,
        end_text: str,
        number: int,
        what: str,
        use_rth: bool,
        ignore_size: bool,
    ) -> TwsMessage:
        found = self._catalog.find(contract)
        if len(found) != 1:
            raise RequestRefused(200, NO_SECURITY_DEFINITION)
        inst = found[0]
        if what not in _WHAT:
            raise RequestRefused(321, f"{_INVALID}Invalid whatToShow {what!r}")
        if what == "TRADES" and inst.sec_type == "CASH":
            raise RequestRefused(
                162,
                "Historical Market Data Service error message:"
                f"No historical market data for {inst.symbol}/CASH@{inst.exchange} Last 0",
            )
        if bool(start_text.strip()) == bool(end_text.strip()):
            raise RequestRefused(
                321, f"{_INVALID}Exactly one of startDateTime or endDateTime must be specified"
            )
        if number < 1:
            raise RequestRefused(321, f"{_INVALID}Invalid numberOfTicks {number}")
        number = min(number, MAX_TICKS)
        now = self._clock.broker_now()
        zone = inst.liquid.zone
        if start_text.strip():
            seconds = self._forward(inst, parse_end(start_text, zone, now), now, use_rth)
        else:
            seconds = self._backward(inst, parse_end(end_text, zone, now), use_rth)
        chosen: list[tuple[datetime, Quote]] = []
        for moment, quote in self._changes(inst, seconds, what, ignore_size=ignore_size):
            chosen.append((moment, quote))
            if len(chosen) == number:
                break
        chosen.sort(key=lambda item: item[0])
        return self._message(req_id, inst, what, chosen)

    def _forward(
        self, inst: Instrument, start: datetime, now: datetime, rth: bool
    ) -> Iterator[datetime]:
        """Whole seconds in the sessions from `start` up to `now`, oldest first."""
        sessions = inst.liquid if rth else inst.trading
        scanned = 0
        for s in sessions.between(start, now + _SECOND):
            t = _ceil_second(max(start, s.start))
            while t < s.end and t <= now:
                yield t
                scanned += 1
                if scanned >= MAX_SCAN:
                    return
                t += _SECOND

    def _backward(self, inst: Instrument, end: datetime, rth: bool) -> Iterator[datetime]:
        """Whole seconds in the sessions before `end`, newest first."""
        sessions = inst.liquid if rth else inst.trading
        scanned = 0
        for s in reversed(list(sessions.between(end - _LOOKBACK, end))):
            t = _ceil_second(min(end, s.end)) - _SECOND
            while t >= s.start:
                yield t
                scanned += 1
                if scanned >= MAX_SCAN:
                    return
                t -= _SECOND

    def _changes(
        self, inst: Instrument, seconds: Iterator[datetime], what: str, *, ignore_size: bool
    ) -> Iterator[tuple[datetime, Quote]]:
        """The seconds that carry a tick: every trading second for TRADES, else those whose
        value differs from the second before (the first of a session always does)."""
        market = self._market
        for t in seconds:
            quote = market.quote(inst, t)
            if what == "TRADES":
                yield t, quote
                continue
            before = t - _SECOND
            if inst.trading.session_at(before) is None:
                yield t, quote
                continue
            earlier = market.quote(inst, before)
            if _value(earlier, what, ignore_size) != _value(quote, what, ignore_size):
                yield t, quote

    def _message(
        self, req_id: int, inst: Instrument, what: str, chosen: list[tuple[datetime, Quote]]
    ) -> TwsMessage:
        if what == "TRADES":
            venue = inst.primary_exchange or inst.exchange
            last = tuple(
                HistoricalTickLast(time=t, price=q.last, size=q.last_size, exchange=venue)
                for t, q in chosen
            )
            return HistoricalTicksLast(reqId=req_id, ticks=last, done=True)
        if what == "BID_ASK":
            bid_ask = tuple(
                HistoricalTickBidAsk(
                    time=t, priceBid=q.bid, priceAsk=q.ask, sizeBid=q.bid_size, sizeAsk=q.ask_size
                )
                for t, q in chosen
            )
            return HistoricalTicksBidAsk(reqId=req_id, ticks=bid_ask, done=True)
        mids = tuple(HistoricalTick(time=t, price=q.mid, size=_ZERO) for t, q in chosen)
        return HistoricalTicks(reqId=req_id, ticks=mids, done=True)


def _value(quote: Quote, what: str, ignore_size: bool) -> object:
    if what == "BID_ASK" and ignore_size:
        return (quote.bid, quote.ask)
    if what == "BID_ASK":
        return (quote.bid, quote.ask, quote.bid_size, quote.ask_size)
    return quote.mid


def _ceil_second(when: datetime) -> datetime:
    floor = when.replace(microsecond=0)
    return floor if floor == when else floor + _SECOND
