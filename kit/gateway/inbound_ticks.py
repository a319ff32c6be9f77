"""reqMarketRule (91) and reqHistoricalTicks (96): their wire form, decoders and handlers.

reqMarketRule carries the rule id alone (no version, no request id: the answer is keyed by
the rule id, and an unknown one is refused with 321 for request id -1, ibguard's choice).
reqHistoricalTicks is reqId, the contract (12 fields, with primaryExchange), includeExpired,
startDateTime, endDateTime, numberOfTicks, whatToShow, useRth, ignoreSize, miscOptions, as
ib_async 2.1 and ibapi 9.81 / 10.x write it at 157..178. Answered by the broker's market rules
(`kit/sim/market_rules.py`) and `TickHistory` (`kit/sim/history_ticks.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from ibguard.kit.gateway.inbound_order import read_contract
from ibguard.kit.gateway.message_ids import In
from ibguard.kit.gateway.registry import Reply, TwsRequest, decodes, serves
from ibguard.kit.gateway.wire_values import FieldCursor
from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.market_rules import UNKNOWN_RULE, market_rule
from ibguard.kit.sim.messages import Contract, Error
from ibguard.kit.sim.session import ApiSession

__all__ = ["ReqHistoricalTicks", "ReqMarketRule"]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqMarketRule(TwsRequest):
    market_rule_id: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReqHistoricalTicks(TwsRequest):
    req_id: int
    contract: Contract
    include_expired: bool
    start_date_time: str
    end_date_time: str
    number_of_ticks: int
    what_to_show: str
    use_rth: bool
    ignore_size: bool
    misc_options: str


@decodes(In.REQ_MARKET_RULE)
def read_req_market_rule(cur: FieldCursor, version: int) -> ReqMarketRule:
    return ReqMarketRule(market_rule_id=cur.read_int("marketRuleId"))


@decodes(In.REQ_HISTORICAL_TICKS)
def read_req_historical_ticks(cur: FieldCursor, version: int) -> ReqHistoricalTicks:
    req_id = cur.read_int("reqId")
    contract = read_contract(cur, with_sec_id=False)
    return ReqHistoricalTicks(
        req_id=req_id,
        contract=contract,
        include_expired=cur.read_bool("includeExpired"),
        start_date_time=cur.read_str("startDateTime"),
        end_date_time=cur.read_str("endDateTime"),
        number_of_ticks=cur.read_int("numberOfTicks"),
        what_to_show=cur.read_str("whatToShow"),
        use_rth=cur.read_bool("useRth"),
        ignore_size=cur.read_bool("ignoreSize"),
        misc_options=cur.read_str("miscOptions"),
    )


@serves(ReqMarketRule)
def _market_rule(r: ReqMarketRule, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    def answer() -> None:
        grids = {(i.sec_type, i.min_tick) for i in b.instruments}
        rule = market_rule(r.market_rule_id, sorted(grids))
        text = UNKNOWN_RULE.format(r.market_rule_id)
        b.post(s, rule or Error(reqId=-1, errorCode=321, errorString=text))

    b.handle_request(s, "reqMarketRule", answer)


@serves(ReqHistoricalTicks)
def _historical_ticks(r: ReqHistoricalTicks, s: ApiSession, b: SimBroker, reply: Reply) -> None:
    b.handle_request(
        s,
        "reqHistoricalTicks",
        lambda: b.tick_history.answer(
            s,
            r.req_id,
            r.contract,
            start=r.start_date_time,
            end=r.end_date_time,
            number=r.number_of_ticks,
            what=r.what_to_show,
            use_rth=r.use_rth,
            ignore_size=r.ignore_size,
        ),
        symbol=r.contract.symbol,
    )
