"""Contracts on the wire: the 11-field contract block shared by order, execution and position
messages, and the contractDetails(10) / contractDetailsEnd(52) replies that
``qualifyContracts`` and ``reqContractDetails`` wait for.

contractDetails changes shape at server version 164 (the message version field and the
obsolete mdSizeMultiplier go away; minSize/sizeIncrement arrive) and 163 carries only
suggestedSizeIncrement.
"""

from __future__ import annotations

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.payloads import Contract, ContractDetails
from ibguard.kit.gateway.wire_values import Fields, text

__all__ = ["contract_block", "encode_contract_details", "encode_contract_details_end"]


def contract_block(c: Contract) -> Fields:
    """conId, symbol, secType, lastTradeDateOrContractMonth, strike, right, multiplier,
    exchange, currency, localSymbol, tradingClass (no primaryExchange: IB omits it here)."""
    return (
        text(c.con_id),
        c.symbol,
        c.sec_type,
        c.last_trade_date,
        text(c.strike),
        c.right,
        c.multiplier,
        c.exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,
    )


def encode_contract_details(
    *, server_version: int, req_id: int, details: ContractDetails
) -> Fields:
    c = details.contract
    head: Fields = (text(Out.CONTRACT_DATA),)
    if server_version < 164:
        head += ("8",)  # message version, dropped at 164
    # Date and time share one field, space separated; the time zone travels in timeZoneId
    # because ib_insync ignores a third part.
    last_times = " ".join(p for p in (c.last_trade_date, details.last_trade_time) if p)
    fields = (
        *head,
        text(req_id),
        c.symbol,
        c.sec_type,
        last_times,
        text(c.strike),
        c.right,
        c.exchange,
        c.currency,
        c.local_symbol,
        details.market_name,
        c.trading_class,
        text(c.con_id),
        text(details.min_tick),
    )
    if server_version < 164:
        fields += ("1",)  # obsolete mdSizeMultiplier
    fields += (
        c.multiplier,
        details.order_types,
        details.valid_exchanges,
        text(details.price_magnifier),
        text(details.under_con_id),
        details.long_name,
        c.primary_exchange,
        details.contract_month,
        details.industry,
        details.category,
        details.subcategory,
        details.time_zone_id,
        details.trading_hours,
        details.liquid_hours,
        details.ev_rule,
        text(details.ev_multiplier),
        text(len(details.sec_ids)),
    )
    for tag, value in details.sec_ids:
        fields += (tag, value)
    fields += (
        text(details.agg_group),
        details.under_symbol,
        details.under_sec_type,
        details.market_rule_ids,
        details.real_expiration_date,
        details.stock_type,
    )
    if server_version == 163:
        fields += (text(details.suggested_size_increment),)
    elif server_version >= 164:
        fields += (
            text(details.min_size),
            text(details.size_increment),
            text(details.suggested_size_increment),
        )
    return fields


def encode_contract_details_end(req_id: int) -> Fields:
    return (text(Out.CONTRACT_DATA_END), "1", text(req_id))
