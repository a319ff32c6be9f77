"""History and instrument lookups on the wire: historicalData (bars and end in one frame),
historicalDataUpdate, headTimestamp, symbolSamples, securityDefinitionOptionParameter(End).

Layouts as the pinned clients read them (server versions 157..178): historicalData has no
message version from 124 on and ends with the bar count per bar; historicalDataUpdate lists
open, close, high, low (in that order), then wap and volume; symbolSamples gains description
and issuerId per contract from server version 176; the option-parameter end has no version.
"""

from __future__ import annotations

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.registry import encodes
from ibguard.kit.gateway.wire_values import Fields, text
from ibguard.kit.sim.market_messages import (
    HeadTimestamp,
    HistoricalData,
    HistoricalDataUpdate,
    SecurityDefinitionOptionParameter,
    SecurityDefinitionOptionParameterEnd,
    SymbolSamples,
)

__all__: list[str] = []

MIN_SERVER_VER_BOND_ISSUERID = 176  # symbolSamples carries description and issuerId


@encodes(HistoricalData, Out.HISTORICAL_DATA)
def encode_historical_data(m: HistoricalData, server_version: int) -> Fields:
    fields: Fields = (
        text(Out.HISTORICAL_DATA),
        text(m.reqId),
        m.startDateStr,
        m.endDateStr,
        text(len(m.bars)),
    )
    for b in m.bars:
        fields += (
            b.date,
            text(b.open),
            text(b.high),
            text(b.low),
            text(b.close),
            text(b.volume),
            text(b.wap),
            text(b.barCount),
        )
    return fields


@encodes(HistoricalDataUpdate, Out.HISTORICAL_DATA_UPDATE)
def encode_historical_data_update(m: HistoricalDataUpdate, server_version: int) -> Fields:
    b = m.bar
    return (
        text(Out.HISTORICAL_DATA_UPDATE),
        text(m.reqId),
        text(b.barCount),
        b.date,
        text(b.open),
        text(b.close),
        text(b.high),
        text(b.low),
        text(b.wap),
        text(b.volume),
    )


@encodes(HeadTimestamp, Out.HEAD_TIMESTAMP)
def encode_head_timestamp(m: HeadTimestamp, server_version: int) -> Fields:
    return (text(Out.HEAD_TIMESTAMP), text(m.reqId), m.headTimestamp)


@encodes(SymbolSamples, Out.SYMBOL_SAMPLES)
def encode_symbol_samples(m: SymbolSamples, server_version: int) -> Fields:
    fields: Fields = (text(Out.SYMBOL_SAMPLES), text(m.reqId), text(len(m.descriptions)))
    for d in m.descriptions:
        c = d.contract
        fields += (
            text(c.conId),
            c.symbol,
            c.secType,
            c.primaryExchange,
            c.currency,
            text(len(d.derivativeSecTypes)),
            *d.derivativeSecTypes,
        )
        if server_version >= MIN_SERVER_VER_BOND_ISSUERID:
            fields += (d.description, d.issuerId)
    return fields


@encodes(SecurityDefinitionOptionParameter, Out.SECURITY_DEFINITION_OPTION_PARAMETER)
def encode_sec_def_opt_params(m: SecurityDefinitionOptionParameter, server_version: int) -> Fields:
    return (
        text(Out.SECURITY_DEFINITION_OPTION_PARAMETER),
        text(m.reqId),
        m.exchange,
        text(m.underlyingConId),
        m.tradingClass,
        m.multiplier,
        text(len(m.expirations)),
        *m.expirations,
        text(len(m.strikes)),
        *(text(s) for s in m.strikes),
    )


@encodes(SecurityDefinitionOptionParameterEnd, Out.SECURITY_DEFINITION_OPTION_PARAMETER_END)
def encode_sec_def_opt_params_end(
    m: SecurityDefinitionOptionParameterEnd, server_version: int
) -> Fields:
    return (text(Out.SECURITY_DEFINITION_OPTION_PARAMETER_END), text(m.reqId))
