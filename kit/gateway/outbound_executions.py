"""Server-to-client execution messages: execDetails(11), execDetailsEnd(55) and
commissionReport(59).

Live executions carry reqId -1 (a request id would let a pending reqExecutions swallow them).
Execution times go out as ``YYYYMMDD HH:MM:SS <zone>`` (`wire_values.tws_time`), the form both
clients parse into an aware datetime, or with no zone when the SimBroker's TWS prints none.
pendingPriceRevision exists on the wire from server version 178.
"""

from __future__ import annotations

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.outbound_contract import contract_block
from ibguard.kit.gateway.registry import encodes
from ibguard.kit.gateway.wire_values import Fields, double, text, tws_time
from ibguard.kit.sim.messages import CommissionReport, ExecDetails, ExecDetailsEnd

__all__ = [
    "LIVE_EXECUTION_REQ_ID",
    "encode_commission_report",
    "encode_exec_details",
    "encode_exec_details_end",
]

LIVE_EXECUTION_REQ_ID = -1


@encodes(ExecDetails, Out.EXECUTION_DATA)
def encode_exec_details(m: ExecDetails, server_version: int) -> Fields:
    ex = m.execution
    fields: Fields = (
        text(Out.EXECUTION_DATA),
        text(m.reqId),
        text(ex.orderId),
        *contract_block(m.contract),
        ex.execId,
        tws_time(ex.time, zone_printed=ex.zone_printed),
        ex.acctNumber,
        ex.exchange,
        ex.side,
        text(ex.shares),
        text(ex.price),
        text(ex.permId),
        text(ex.clientId),
        text(ex.liquidation),
        text(ex.cumQty),
        text(ex.avgPrice),
        ex.orderRef,
        ex.evRule,
        text(ex.evMultiplier),
        ex.modelCode,
        text(ex.lastLiquidity),
    )
    if server_version >= 178:
        fields += (text(ex.pendingPriceRevision),)
    return fields


@encodes(ExecDetailsEnd, Out.EXECUTION_DATA_END)
def encode_exec_details_end(m: ExecDetailsEnd, server_version: int) -> Fields:
    return (text(Out.EXECUTION_DATA_END), "1", text(m.reqId))


@encodes(CommissionReport, Out.COMMISSION_REPORT)
def encode_commission_report(m: CommissionReport, server_version: int) -> Fields:
    return (
        text(Out.COMMISSION_REPORT),
        "1",
        m.execId,
        text(m.commission),
        m.currency,
        double(m.realizedPNL),
        double(m.yield_),
        text(m.yieldRedemptionDate),
    )
