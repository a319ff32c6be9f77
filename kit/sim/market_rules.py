"""Market rules: the price increments behind the `marketRuleIds` of contract details, and
the reqMarketRule answer.

TWS lists one market rule id per valid exchange (in the order of `validExchanges`) and
answers reqMarketRule(id) with the rule's (lowEdge, increment) rows. The paper TWS prices
every instrument on one flat grid, its minTick (order checks refuse prices off it), so every
rule here has one row: lowEdge 0, increment minTick. Ids are IB's where TWS answers were
recorded for the same kind of instrument (contract-details dumps in nautilus_trader's IB
adapter fixtures, ib_async/ib_insync users' logs): 26 for US stocks and ETFs (0.01), 32 for
other instruments on a 0.01 grid (options, CL futures), 239 for EUR.USD on IDEALPRO
(0.00005). A grid without a recorded IB rule gets an ibguard id from 100000 up, derived from
the tick itself, so the same tick always has the same id.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from ibguard.kit.sim.market_messages import MarketRule, PriceIncrement

__all__ = ["UNKNOWN_RULE", "market_rule", "rule_id", "rule_ids"]

_RECORDED: Final = {
    ("STK", Decimal("0.01")): 26,
    ("OPT", Decimal("0.01")): 32,
    ("FUT", Decimal("0.01")): 32,
    ("CASH", Decimal("0.00005")): 239,
}
_OWN_IDS: Final = 100_000
UNKNOWN_RULE: Final = "Error validating request:-'bu' : cause - Invalid market rule id: {}"


def rule_id(sec_type: str, min_tick: Decimal) -> int:
    """The rule of an instrument of `sec_type` priced on a `min_tick` grid."""
    recorded = _RECORDED.get((sec_type, min_tick))  # Decimals equal in value hash alike
    if recorded is not None:
        return recorded
    return _OWN_IDS + zlib.crc32(format(min_tick.normalize(), "f").encode()) % 900_000


def rule_ids(sec_type: str, min_tick: Decimal, valid_exchanges: str) -> str:
    """contractDetails.marketRuleIds: the rule once per valid exchange."""
    count = max(len([e for e in valid_exchanges.split(",") if e]), 1)
    return ",".join([str(rule_id(sec_type, min_tick))] * count)


def market_rule(wanted: int, grids: Iterable[tuple[str, Decimal]]) -> MarketRule | None:
    """reqMarketRule: the rule `wanted` if one of the (secType, minTick) `grids` of the
    catalog uses it, else None."""
    for sec_type, tick in grids:
        if rule_id(sec_type, tick) == wanted:
            row = PriceIncrement(lowEdge=Decimal(0), increment=tick)
            return MarketRule(marketRuleId=wanted, priceIncrements=(row,))
    return None
