"""Server-to-client order messages: orderStatus(3), openOrder(5), openOrderEnd(53),
completedOrder(101), completedOrdersEnd(102).

openOrder and completedOrder are positional lists of ~100 fields whose layout depends on the
server version (faProfile below 177; duration from 158, postToAts from 160, autoCancelParent
from 162, five PEG fields from 170) and on the order itself: optional blocks (delta-neutral,
combo legs, scale, hedge, algo params, conditions, PEG BENCH) are announced by the field before
them. The gateway never uses those features, so it writes each announcing field as "absent"
and the block is skipped by both clients. Every wire field that `Order` does not model is sent
as IB's default; unset doubles and ints are IB's sentinels, as real TWS prints them.
"""

from __future__ import annotations

from ibguard.errors import UsageError
from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.gateway.outbound_contract import contract_block
from ibguard.kit.gateway.registry import encodes
from ibguard.kit.gateway.wire_values import (
    UNSET_DOUBLE,
    UNSET_INTEGER,
    Fields,
    double,
    text,
    tws_time,
)
from ibguard.kit.sim.messages import (
    CompletedOrder,
    CompletedOrdersEnd,
    OpenOrder,
    OpenOrderEnd,
    OrderStatus,
)

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
_UNMODELLED_TYPES = frozenset({"PEGBENCH", "PEGBEST", "PEGMID"})


@encodes(OrderStatus, Out.ORDER_STATUS)
def encode_order_status(m: OrderStatus, server_version: int) -> Fields:
    """orderStatus(3): no version field at these server versions."""
    return (
        text(Out.ORDER_STATUS),
        text(m.orderId),
        m.status,
        text(m.filled),
        text(m.remaining),
        text(m.avgFillPrice),
        text(m.permId),
        text(m.parentId),
        text(m.lastFillPrice),
        text(m.clientId),
        m.whyHeld,
        text(m.mktCapPrice),
    )


def _refuse_unmodelled_type(order_type: str) -> None:
    # These types make the decoders read extra blocks the gateway does not model, and the
    # two clients disagree on the spelling that triggers them.
    if order_type.replace(" ", "") in _UNMODELLED_TYPES:
        raise UsageError(f"order type {order_type!r} is not supported by the gateway")


def _fa_fields(server_version: int) -> Fields:
    # faGroup, faMethod, faPercentage, then faProfile until it was dropped at 177.
    return ("", "", "", "") if server_version < 177 else ("", "", "")


def _order_tail_from_158(server_version: int) -> Fields:
    fields: Fields = ()
    if server_version >= 158:
        # IBKR's MIN_SERVER_VER_DURATION; ib_async/ib_insync read it from 159 (their bug)
        fields += (_UI,)  # duration
    if server_version >= 160:
        fields += (_UI,)  # postToAts
    if server_version >= 162:
        fields += (_NO,)  # autoCancelParent
    return fields


@encodes(OpenOrder, Out.OPEN_ORDER)
def encode_open_order(m: OpenOrder, server_version: int) -> Fields:
    """openOrder(5); ``order.whatIf`` with margins in ``orderState`` answers a whatIfOrder."""
    o, st = m.order, m.orderState
    _refuse_unmodelled_type(o.orderType)
    fields: Fields = (
        text(Out.OPEN_ORDER),
        text(m.orderId),
        *contract_block(m.contract),
        o.action,
        text(o.totalQuantity),
        o.orderType,
        double(o.lmtPrice),
        double(o.auxPrice),
        o.tif,
        o.ocaGroup,
        o.account,
        o.openClose,
        text(o.origin),
        o.orderRef,
        text(o.clientId),
        text(o.permId),
        text(o.outsideRth),
        text(o.hidden),
        "0",  # discretionaryAmt
        o.goodAfterTime,
        "",  # sharesAllocation, deprecated and skipped by the clients
        *_fa_fields(server_version),
        o.modelCode,
        o.goodTillDate,
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
        text(o.parentId),
        "0",  # triggerMethod
        _U,  # volatility
        _UI,  # volatilityType
        "",  # deltaNeutralOrderType: empty, so no delta-neutral block follows
        _U,  # deltaNeutralAuxPrice
        _NO,  # continuousUpdate
        _UI,  # referencePriceType
        double(o.trailStopPrice),
        double(o.trailingPercent),
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
        text(o.whatIf),
        st.status,
        double(st.initMarginBefore),
        double(st.maintMarginBefore),
        double(st.equityWithLoanBefore),
        double(st.initMarginChange),
        double(st.maintMarginChange),
        double(st.equityWithLoanChange),
        double(st.initMarginAfter),
        double(st.maintMarginAfter),
        double(st.equityWithLoanAfter),
        double(st.commission),
        double(st.minCommission),
        double(st.maxCommission),
        st.commissionCurrency,
        st.warningText,
        _NO,  # randomizeSize
        _NO,  # randomizePrice
        "0",  # conditions
        "",  # adjustedOrderType
        _U,  # triggerPrice
        double(o.trailStopPrice),  # sent a second time in this position by TWS
        _U,  # lmtPriceOffset
        _U,  # adjustedStopPrice
        _U,  # adjustedStopLimitPrice
        _U,  # adjustedTrailingAmount
        "0",  # adjustableTrailingUnit
        "",  # softDollarTier name
        "",  # softDollarTier value
        "",  # softDollarTier displayName
        double(o.cashQty),
        _NO,  # dontUseAutoPriceForHedge
        _NO,  # isOmsContainer
        _NO,  # discretionaryUpToLimitPrice
        _NO,  # usePriceMgmtAlgo
        *_order_tail_from_158(server_version),
    )
    if server_version >= 170:
        fields += _PEG_FIELDS_170
    return fields


@encodes(OpenOrderEnd, Out.OPEN_ORDER_END)
def encode_open_order_end(m: OpenOrderEnd, server_version: int) -> Fields:
    return (text(Out.OPEN_ORDER_END), "1")


@encodes(CompletedOrder, Out.COMPLETED_ORDER)
def encode_completed_order(m: CompletedOrder, server_version: int) -> Fields:
    """completedOrder(101): no version, orderId or clientId; permId identifies the order."""
    o, st = m.order, m.orderState
    _refuse_unmodelled_type(o.orderType)
    fields: Fields = (
        text(Out.COMPLETED_ORDER),
        *contract_block(m.contract),
        o.action,
        text(o.totalQuantity),
        o.orderType,
        double(o.lmtPrice),
        double(o.auxPrice),
        o.tif,
        o.ocaGroup,
        o.account,
        o.openClose,
        text(o.origin),
        o.orderRef,
        text(o.permId),
        text(o.outsideRth),
        text(o.hidden),
        "0",  # discretionaryAmt
        o.goodAfterTime,
        *_fa_fields(server_version),
        o.modelCode,
        o.goodTillDate,
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
        double(o.trailStopPrice),
        double(o.trailingPercent),
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
        double(o.trailStopPrice),
        _U,  # lmtPriceOffset
        double(o.cashQty),
        _NO,  # dontUseAutoPriceForHedge
        _NO,  # isOmsContainer
        "",  # autoCancelDate
        double(o.filledQuantity),
        "0",  # refFuturesConId
        _NO,  # autoCancelParent
        "",  # shareholder
        _NO,  # imbalanceOnly
        _NO,  # routeMarketableToBbo
        text(o.parentPermId),
        tws_time(st.completedTime),
        st.completedStatus,
    )
    if server_version >= 170:
        fields += _PEG_FIELDS_170
    return fields


@encodes(CompletedOrdersEnd, Out.COMPLETED_ORDERS_END)
def encode_completed_orders_end(m: CompletedOrdersEnd, server_version: int) -> Fields:
    return (text(Out.COMPLETED_ORDERS_END),)
