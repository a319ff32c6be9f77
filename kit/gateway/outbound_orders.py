"""Server-to-client order messages: orderStatus(3), openOrder(5), openOrderEnd(53),
completedOrder(101), completedOrdersEnd(102).

openOrder and completedOrder are positional lists of ~100 fields whose layout depends on the
server version (faProfile below 177; duration from 159, postToAts from 160, autoCancelParent
from 162, five PEG fields from 170) and on the order itself: optional blocks (delta-neutral,
combo legs, scale, hedge, algo params, conditions, PEG BENCH) are announced by the field before
them. The gateway never uses those features, so it writes each announcing field as "absent"
and the block is skipped by both clients. Every wire field that `Order` does not model is sent
as IB's default; unset doubles and ints are IB's sentinels, as real TWS prints them.
"""

from __future__ import annotations

from decimal import Decimal

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.outbound_contract import contract_block
from ibguard.kit.gateway.payloads import Contract, Order, OrderState
from ibguard.kit.gateway.wire_values import UNSET_DOUBLE, UNSET_INTEGER, Fields, double, text

__all__ = [
    "encode_completed_order",
    "encode_completed_orders_end",
    "encode_open_order",
    "encode_open_order_end",
    "encode_order_status",
]

_U = UNSET_DOUBLE
_UI = UNSET_INTEGER
_NO = "0"
# minTradeQty, minCompeteSize, competeAgainstBestOffset, midOffsetAtWhole, midOffsetAtHalf
_PEG_FIELDS_170: Fields = (_UI, _UI, _U, _U, _U)


def encode_order_status(
    *,
    order_id: int,
    status: str,
    filled: Decimal,
    remaining: Decimal,
    avg_fill_price: Decimal,
    perm_id: int,
    parent_id: int = 0,
    last_fill_price: Decimal = Decimal(0),
    client_id: int,
    why_held: str = "",
    mkt_cap_price: Decimal = Decimal(0),
) -> Fields:
    """orderStatus(3): no version field at these server versions."""
    return (
        text(Out.ORDER_STATUS),
        text(order_id),
        status,
        text(filled),
        text(remaining),
        text(avg_fill_price),
        text(perm_id),
        text(parent_id),
        text(last_fill_price),
        text(client_id),
        why_held,
        text(mkt_cap_price),
    )


def _fa_fields(server_version: int) -> Fields:
    # faGroup, faMethod, faPercentage, then faProfile until it was dropped at 177.
    return ("", "", "", "") if server_version < 177 else ("", "", "")


def _order_tail_from_159(server_version: int) -> Fields:
    fields: Fields = ()
    if server_version >= 159:
        fields += (_UI,)  # duration
    if server_version >= 160:
        fields += (_UI,)  # postToAts
    if server_version >= 162:
        fields += (_NO,)  # autoCancelParent
    return fields


def encode_open_order(
    *, server_version: int, contract: Contract, order: Order, state: OrderState
) -> Fields:
    """openOrder(5); ``order.what_if`` with margins in ``state`` answers a whatIfOrder."""
    o, st = order, state
    fields: Fields = (
        text(Out.OPEN_ORDER),
        text(o.order_id),
        *contract_block(contract),
        o.action,
        text(o.total_quantity),
        o.order_type,
        double(o.lmt_price),
        double(o.aux_price),
        o.tif,
        o.oca_group,
        o.account,
        o.open_close,
        text(o.origin),
        o.order_ref,
        text(o.client_id),
        text(o.perm_id),
        text(o.outside_rth),
        text(o.hidden),
        "0",  # discretionaryAmt
        o.good_after_time,
        "",  # sharesAllocation, deprecated and skipped by the clients
        *_fa_fields(server_version),
        o.model_code,
        o.good_till_date,
        "",  # rule80A
        _U,  # percentOffset
        "",  # settlingFirm
        "0",  # shortSaleSlot
        "",  # designatedLocation
        "-1",  # exemptCode
        "0",  # auctionStrategy
        *(_U,) * 5,  # startingPrice, stockRefPrice, delta, stockRangeLower/Upper
        "0",  # displaySize
        _NO,  # blockOrder
        _NO,  # sweepToFill
        _NO,  # allOrNone
        _UI,  # minQty
        "0",  # ocaType
        _NO,  # eTradeOnly
        _NO,  # firmQuoteOnly
        _U,  # nbboPriceCap
        text(o.parent_id),
        "0",  # triggerMethod
        _U,  # volatility
        _UI,  # volatilityType
        "",  # deltaNeutralOrderType: empty, so no delta-neutral block follows
        _U,  # deltaNeutralAuxPrice
        _NO,  # continuousUpdate
        _UI,  # referencePriceType
        double(o.trail_stop_price),
        double(o.trailing_percent),
        _U,  # basisPoints
        _UI,  # basisPointsType
        "",  # comboLegsDescrip
        "0",  # combo legs
        "0",  # order combo legs
        "0",  # smart combo routing params
        _UI,  # scaleInitLevelSize
        _UI,  # scaleSubsLevelSize
        _U,  # scalePriceIncrement: unset, so no scale block follows
        "",  # hedgeType: empty, so no hedgeParam
        _NO,  # optOutSmartRouting
        "",  # clearingAccount
        "",  # clearingIntent
        _NO,  # notHeld
        "0",  # delta-neutral contract absent
        "",  # algoStrategy: empty, so no algo params
        _NO,  # solicited
        text(o.what_if),
        st.status,
        double(st.init_margin_before),
        double(st.maint_margin_before),
        double(st.equity_with_loan_before),
        double(st.init_margin_change),
        double(st.maint_margin_change),
        double(st.equity_with_loan_change),
        double(st.init_margin_after),
        double(st.maint_margin_after),
        double(st.equity_with_loan_after),
        double(st.commission),
        double(st.min_commission),
        double(st.max_commission),
        st.commission_currency,
        st.warning_text,
        _NO,  # randomizeSize
        _NO,  # randomizePrice
        "0",  # conditions
        "",  # adjustedOrderType
        _U,  # triggerPrice
        double(o.trail_stop_price),  # sent a second time in this position by TWS
        _U,  # lmtPriceOffset
        _U,  # adjustedStopPrice
        _U,  # adjustedStopLimitPrice
        _U,  # adjustedTrailingAmount
        "0",  # adjustableTrailingUnit
        "",  # softDollarTier name
        "",  # softDollarTier value
        "",  # softDollarTier displayName
        double(o.cash_qty),
        _NO,  # dontUseAutoPriceForHedge
        _NO,  # isOmsContainer
        _NO,  # discretionaryUpToLimitPrice
        _NO,  # usePriceMgmtAlgo
        *_order_tail_from_159(server_version),
    )
    if server_version >= 170:
        fields += _PEG_FIELDS_170
    return fields


def encode_open_order_end() -> Fields:
    return (text(Out.OPEN_ORDER_END), "1")


def encode_completed_order(
    *, server_version: int, contract: Contract, order: Order, state: OrderState
) -> Fields:
    """completedOrder(101): no version, orderId or clientId; permId identifies the order."""
    o, st = order, state
    fields: Fields = (
        text(Out.COMPLETED_ORDER),
        *contract_block(contract),
        o.action,
        text(o.total_quantity),
        o.order_type,
        double(o.lmt_price),
        double(o.aux_price),
        o.tif,
        o.oca_group,
        o.account,
        o.open_close,
        text(o.origin),
        o.order_ref,
        text(o.perm_id),
        text(o.outside_rth),
        text(o.hidden),
        "0",  # discretionaryAmt
        o.good_after_time,
        *_fa_fields(server_version),
        o.model_code,
        o.good_till_date,
        "",  # rule80A
        _U,  # percentOffset
        "",  # settlingFirm
        "0",  # shortSaleSlot
        "",  # designatedLocation
        "-1",  # exemptCode
        *(_U,) * 5,  # startingPrice, stockRefPrice, delta, stockRangeLower/Upper
        "0",  # displaySize
        _NO,  # sweepToFill
        _NO,  # allOrNone
        _UI,  # minQty
        "0",  # ocaType
        "0",  # triggerMethod
        _U,  # volatility
        _UI,  # volatilityType
        "",  # deltaNeutralOrderType: empty, so no delta-neutral block follows
        _U,  # deltaNeutralAuxPrice
        _NO,  # continuousUpdate
        _UI,  # referencePriceType
        double(o.trail_stop_price),
        double(o.trailing_percent),
        "",  # comboLegsDescrip
        "0",  # combo legs
        "0",  # order combo legs
        "0",  # smart combo routing params
        _UI,  # scaleInitLevelSize
        _UI,  # scaleSubsLevelSize
        _U,  # scalePriceIncrement: unset, so no scale block follows
        "",  # hedgeType
        "",  # clearingAccount
        "",  # clearingIntent
        _NO,  # notHeld
        "0",  # delta-neutral contract absent
        "",  # algoStrategy
        _NO,  # solicited
        st.status,
        _NO,  # randomizeSize
        _NO,  # randomizePrice
        "0",  # conditions
        double(o.trail_stop_price),
        _U,  # lmtPriceOffset
        double(o.cash_qty),
        _NO,  # dontUseAutoPriceForHedge
        _NO,  # isOmsContainer
        "",  # autoCancelDate
        double(o.filled_quantity),
        "0",  # refFuturesConId
        _NO,  # autoCancelParent
        "",  # shareholder
        _NO,  # imbalanceOnly
        _NO,  # routeMarketableToBbo
        text(o.parent_perm_id),
        st.completed_time,
        st.completed_status,
    )
    if server_version >= 170:
        fields += _PEG_FIELDS_170
    return fields


def encode_completed_orders_end() -> Fields:
    return (text(Out.COMPLETED_ORDERS_END),)
