"""Contracts on the wire: the 11-field contract block shared by order, execution and position
messages, and the contractDetails(10) / contractDetailsEnd(52) replies that
``qualifyContracts`` and ``reqContractDetails`` wait for.

contractDetails changes shape at server version 164 (the message version field and the
obsolete mdSizeMultiplier go away; minSize/sizeIncrement arrive) and 163 carries only
suggestedSizeIncrement.
"""

from __future__ import annotations

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.registry import encodes
from ibguard.kit.gateway.wire_values import Fields, text
from ibguard.kit.sim.messages import Contract, ContractDetails, ContractDetailsEnd

__all__ = ["contract_block", "encode_contract_details", "encode_contract_details_end"]


def contract_block(c: Contract) -> Fields:
    """conId, symbol, secType, lastTradeDateOrContractMonth, strike, right, multiplier,
    exchange, currency, localSymbol, tradingClass (no primaryExchange: IB omits it here)."""
    return (
        text(c.conId),
        c.symbol,
        c.secType,
        c.lastTradeDateOrContractMonth,
        text(c.strike),
        c.right,
        c.multiplier,
        c.exchange,
        c.currency,
        c.localSymbol,
        c.tradingClass,
    )


@encodes(ContractDetails, Out.CONTRACT_DATA)
def encode_contract_details(d: ContractDetails, server_version: int) -> Fields:
    c = d.contract
    head: Fields = (text(Out.CONTRACT_DATA),)
    if server_version < 164:
        head += ("8",)  # message version, dropped at 164
    # Date and time share one field, space separated; the time zone travels in timeZoneId
    # because ib_insync ignores a third part.
    last_times = " ".join(p for p in (c.lastTradeDateOrContractMonth, d.lastTradeTime) if p)
    fields = (
        *head,
        text(d.reqId),
        c.symbol,
        c.secType,
        last_times,
        text(c.strike),
        c.right,
        c.exchange,
        c.currency,
        c.localSymbol,
        d.marketName,
        c.tradingClass,
        text(c.conId),
        text(d.minTick),
    )
    if server_version < 164:
        fields += ("1",)  # obsolete mdSizeMultiplier
    fields += (
        c.multiplier,
        d.orderTypes,
        d.validExchanges,
        text(d.priceMagnifier),
        text(d.underConId),
        d.longName,
        c.primaryExchange,
        d.contractMonth,
        d.industry,
        d.category,
        d.subcategory,
        d.timeZoneId,
        d.tradingHours,
        d.liquidHours,
        d.evRule,
        text(d.evMultiplier),
        text(len(d.secIdList)),
    )
    for tag, value in d.secIdList:
        fields += (tag, value)
    fields += (
        text(d.aggGroup),
        d.underSymbol,
        d.underSecType,
        d.marketRuleIds,
        d.realExpirationDate,
        d.stockType,
    )
    if server_version == 163:
        fields += (text(d.suggestedSizeIncrement),)
    elif server_version >= 164:
        fields += (text(d.minSize), text(d.sizeIncrement), text(d.suggestedSizeIncrement))
    return fields


@encodes(ContractDetailsEnd, Out.CONTRACT_DATA_END)
def encode_contract_details_end(m: ContractDetailsEnd, server_version: int) -> Fields:
    return (text(Out.CONTRACT_DATA_END), "1", text(m.reqId))
