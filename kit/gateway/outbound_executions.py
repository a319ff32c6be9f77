"""Server-to-client execution messages: execDetails(11), execDetailsEnd(55) and
commissionReport(59).

Live executions carry reqId -1 (a request id would let a pending reqExecutions swallow them).
Execution times go out as ``YYYYMMDD HH:MM:SS <zone>``, the form both clients parse into an
aware datetime. pendingPriceRevision exists on the wire from server version 178.
"""

from __future__ import annotations

from datetime import timezone
from zoneinfo import ZoneInfo

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.outbound_contract import contract_block
from ibguard.kit.gateway.payloads import CommissionReport, Contract, Execution
from ibguard.kit.gateway.wire_values import Fields, double, text

__all__ = [
    "LIVE_EXECUTION_REQ_ID",
    "encode_commission_report",
    "encode_exec_details",
    "encode_exec_details_end",
]

LIVE_EXECUTION_REQ_ID = -1


def _exec_time(ex: Execution) -> str:
    when = ex.time
    zone = when.tzinfo
    if not isinstance(zone, ZoneInfo):
        # Only IANA names survive the trip; fixed offsets are sent as the same instant in UTC.
        when, zone = when.astimezone(timezone.utc), ZoneInfo("UTC")
    return when.strftime("%Y%m%d %H:%M:%S ") + zone.key


def encode_exec_details(
    *,
    server_version: int,
    req_id: int = LIVE_EXECUTION_REQ_ID,
    contract: Contract,
    execution: Execution,
) -> Fields:
    ex = execution
    fields: Fields = (
        text(Out.EXECUTION_DATA),
        text(req_id),
        text(ex.order_id),
        *contract_block(contract),
        ex.exec_id,
        _exec_time(ex),
        ex.account,
        ex.exchange,
        ex.side,
        text(ex.shares),
        text(ex.price),
        text(ex.perm_id),
        text(ex.client_id),
        text(ex.liquidation),
        text(ex.cum_qty),
        text(ex.avg_price),
        ex.order_ref,
        ex.ev_rule,
        text(ex.ev_multiplier),
        ex.model_code,
        text(ex.last_liquidity),
    )
    if server_version >= 178:
        fields += (text(ex.pending_price_revision),)
    return fields


def encode_exec_details_end(req_id: int) -> Fields:
    return (text(Out.EXECUTION_DATA_END), "1", text(req_id))


def encode_commission_report(report: CommissionReport) -> Fields:
    r = report
    return (
        text(Out.COMMISSION_REPORT),
        "1",
        r.exec_id,
        text(r.commission),
        r.currency,
        double(r.realized_pnl),
        double(r.yield_),
        text(r.yield_redemption_date),
    )
