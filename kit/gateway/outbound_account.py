"""Server-to-client account and portfolio messages.

- position(61) / positionEnd(62): answers reqPositions;
- accountValue(6), portfolioValue(7), accountUpdateTime(8), accountDownloadEnd(54): answer
  reqAccountUpdates (a single-account login waits for accountDownloadEnd);
- accountUpdateMulti(73) / accountUpdateMultiEnd(74): answer reqAccountUpdatesMulti;
- accountSummary(63) / accountSummaryEnd(64): answer reqAccountSummary.
Account values are text on the wire (IB mixes numbers and words); Decimals are formatted plainly.
"""

from __future__ import annotations

from decimal import Decimal

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.outbound_contract import contract_block
from ibguard.kit.gateway.payloads import Contract
from ibguard.kit.gateway.wire_values import Fields, text

__all__ = [
    "encode_account_download_end",
    "encode_account_summary",
    "encode_account_summary_end",
    "encode_account_update_multi",
    "encode_account_update_multi_end",
    "encode_account_update_time",
    "encode_account_value",
    "encode_portfolio_value",
    "encode_position",
    "encode_position_end",
]


def encode_position(
    *, account: str, contract: Contract, position: Decimal, avg_cost: Decimal
) -> Fields:
    return (
        text(Out.POSITION_DATA),
        "3",
        account,
        *contract_block(contract),
        text(position),
        text(avg_cost),
    )


def encode_position_end() -> Fields:
    return (text(Out.POSITION_END), "1")


def encode_account_value(*, key: str, value: str | Decimal, currency: str, account: str) -> Fields:
    return (text(Out.ACCOUNT_VALUE), "2", key, text(value), currency, account)


def encode_portfolio_value(
    *,
    contract: Contract,
    position: Decimal,
    market_price: Decimal,
    market_value: Decimal,
    average_cost: Decimal,
    unrealized_pnl: Decimal,
    realized_pnl: Decimal,
    account: str,
) -> Fields:
    """portfolioValue(7): the contract block carries primaryExchange where others carry
    exchange."""
    c = contract
    return (
        text(Out.PORTFOLIO_VALUE),
        "8",
        text(c.con_id),
        c.symbol,
        c.sec_type,
        c.last_trade_date,
        text(c.strike),
        c.right,
        c.multiplier,
        c.primary_exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,
        text(position),
        text(market_price),
        text(market_value),
        text(average_cost),
        text(unrealized_pnl),
        text(realized_pnl),
        account,
    )


def encode_account_update_time(hh_mm: str) -> Fields:
    return (text(Out.ACCOUNT_UPDATE_TIME), "1", hh_mm)


def encode_account_download_end(account: str) -> Fields:
    return (text(Out.ACCOUNT_DOWNLOAD_END), "1", account)


def encode_account_update_multi(
    *,
    req_id: int,
    account: str,
    model_code: str = "",
    key: str,
    value: str | Decimal,
    currency: str,
) -> Fields:
    return (
        text(Out.ACCOUNT_UPDATE_MULTI),
        "1",
        text(req_id),
        account,
        model_code,
        key,
        text(value),
        currency,
    )


def encode_account_update_multi_end(req_id: int) -> Fields:
    return (text(Out.ACCOUNT_UPDATE_MULTI_END), "1", text(req_id))


def encode_account_summary(
    *, req_id: int, account: str, tag: str, value: str | Decimal, currency: str
) -> Fields:
    return (text(Out.ACCOUNT_SUMMARY), "1", text(req_id), account, tag, text(value), currency)


def encode_account_summary_end(req_id: int) -> Fields:
    return (text(Out.ACCOUNT_SUMMARY_END), "1", text(req_id))
