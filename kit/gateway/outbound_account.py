"""Server-to-client account and portfolio messages.

- position(61) / positionEnd(62): answers reqPositions;
- accountValue(6), portfolioValue(7), accountUpdateTime(8), accountDownloadEnd(54): answer
  reqAccountUpdates (a single-account login waits for accountDownloadEnd);
- accountUpdateMulti(73) / accountUpdateMultiEnd(74): answer reqAccountUpdatesMulti;
- accountSummary(63) / accountSummaryEnd(64): answer reqAccountSummary.
Account values are text on the wire (IB mixes numbers and words); Decimals are formatted plainly.
"""

from __future__ import annotations

from datetime import timezone

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.outbound_contract import contract_block
from ibguard.kit.gateway.registry import encodes
from ibguard.kit.gateway.wire_values import Fields, text
from ibguard.kit.sim.messages import (
    AccountDownloadEnd,
    AccountSummary,
    AccountSummaryEnd,
    AccountUpdateMulti,
    AccountUpdateMultiEnd,
    AccountUpdateTime,
    AccountValue,
    PortfolioValue,
    Position,
    PositionEnd,
)

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


@encodes(Position, Out.POSITION_DATA)
def encode_position(m: Position, server_version: int) -> Fields:
    return (
        text(Out.POSITION_DATA),
        "3",
        m.account,
        *contract_block(m.contract),
        text(m.position),
        text(m.avgCost),
    )


@encodes(PositionEnd, Out.POSITION_END)
def encode_position_end(m: PositionEnd, server_version: int) -> Fields:
    return (text(Out.POSITION_END), "1")


@encodes(AccountValue, Out.ACCOUNT_VALUE)
def encode_account_value(m: AccountValue, server_version: int) -> Fields:
    return (text(Out.ACCOUNT_VALUE), "2", m.key, text(m.value), m.currency, m.accountName)


@encodes(PortfolioValue, Out.PORTFOLIO_VALUE)
def encode_portfolio_value(m: PortfolioValue, server_version: int) -> Fields:
    """portfolioValue(7): the contract block carries primaryExchange where others carry
    exchange."""
    c = m.contract
    return (
        text(Out.PORTFOLIO_VALUE),
        "8",
        text(c.conId),
        c.symbol,
        c.secType,
        c.lastTradeDateOrContractMonth,
        text(c.strike),
        c.right,
        c.multiplier,
        c.primaryExchange,
        c.currency,
        c.localSymbol,
        c.tradingClass,
        text(m.position),
        text(m.marketPrice),
        text(m.marketValue),
        text(m.averageCost),
        text(m.unrealizedPNL),
        text(m.realizedPNL),
        m.accountName,
    )


@encodes(AccountUpdateTime, Out.ACCOUNT_UPDATE_TIME)
def encode_account_update_time(m: AccountUpdateTime, server_version: int) -> Fields:
    return (text(Out.ACCOUNT_UPDATE_TIME), "1", m.time.astimezone(timezone.utc).strftime("%H:%M"))


@encodes(AccountDownloadEnd, Out.ACCOUNT_DOWNLOAD_END)
def encode_account_download_end(m: AccountDownloadEnd, server_version: int) -> Fields:
    return (text(Out.ACCOUNT_DOWNLOAD_END), "1", m.accountName)


@encodes(AccountUpdateMulti, Out.ACCOUNT_UPDATE_MULTI)
def encode_account_update_multi(m: AccountUpdateMulti, server_version: int) -> Fields:
    return (
        text(Out.ACCOUNT_UPDATE_MULTI),
        "1",
        text(m.reqId),
        m.account,
        m.modelCode,
        m.key,
        text(m.value),
        m.currency,
    )


@encodes(AccountUpdateMultiEnd, Out.ACCOUNT_UPDATE_MULTI_END)
def encode_account_update_multi_end(m: AccountUpdateMultiEnd, server_version: int) -> Fields:
    return (text(Out.ACCOUNT_UPDATE_MULTI_END), "1", text(m.reqId))


@encodes(AccountSummary, Out.ACCOUNT_SUMMARY)
def encode_account_summary(m: AccountSummary, server_version: int) -> Fields:
    return (
        text(Out.ACCOUNT_SUMMARY),
        "1",
        text(m.reqId),
        m.account,
        m.tag,
        text(m.value),
        m.currency,
    )


@encodes(AccountSummaryEnd, Out.ACCOUNT_SUMMARY_END)
def encode_account_summary_end(m: AccountSummaryEnd, server_version: int) -> Fields:
    return (text(Out.ACCOUNT_SUMMARY_END), "1", text(m.reqId))
