"""Mapping between SimBroker's IB-shaped messages and the gateway codec.

Owns the translation in both directions and nothing else: a SimBroker message (camelCase,
``kit.sim.messages``) becomes the fields of one TWS frame at a negotiated server version, and a
decoded placeOrder / reqContractDetails contract becomes the sim's request values. No sockets,
no broker calls. `Disconnected` is a transport event, not a TWS message: the connection acts on
it and it never reaches `encode_sim_message`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Final

from ibguard.errors import UsageError
from ibguard.kit.gateway import outbound_account as acct
from ibguard.kit.gateway import outbound_contract as cds
from ibguard.kit.gateway import outbound_executions as exe
from ibguard.kit.gateway import outbound_orders as orders
from ibguard.kit.gateway import outbound_session as sess
from ibguard.kit.gateway import payloads as wire
from ibguard.kit.gateway.inbound_order import PlaceOrder
from ibguard.kit.gateway.wire_values import Fields
from ibguard.kit.sim import messages as sim

__all__ = ["encode_sim_message", "sim_contract", "sim_order", "wire_contract"]

_ZERO = Decimal(0)


# --- sim -> wire values -------------------------------------------------------------------


def wire_contract(c: sim.Contract) -> wire.Contract:
    return wire.Contract(
        con_id=c.conId,
        symbol=c.symbol,
        sec_type=c.secType,
        exchange=c.exchange,
        primary_exchange=c.primaryExchange,
        currency=c.currency,
        local_symbol=c.localSymbol,
        trading_class=c.tradingClass,
    )


def _wire_order(o: sim.Order) -> wire.Order:
    return wire.Order(
        action=o.action,
        total_quantity=o.totalQuantity,
        order_type=o.orderType,
        order_id=o.orderId,
        client_id=o.clientId,
        perm_id=o.permId,
        lmt_price=o.lmtPrice,
        aux_price=o.auxPrice,
        tif=o.tif,
        account=o.account,
        order_ref=o.orderRef,
        parent_id=o.parentId,
        what_if=o.whatIf,
        filled_quantity=o.filledQuantity,
    )


def _tws_time(when: datetime | None) -> str:
    # TWS prints completedTime as local date, time and zone name; UTC keeps it host-independent.
    if when is None:
        return ""
    return when.astimezone(timezone.utc).strftime("%Y%m%d %H:%M:%S UTC")


def _wire_state(s: sim.OrderState, *, what_if: bool) -> wire.OrderState:
    if not what_if:
        return wire.OrderState(
            status=s.status,
            completed_time=_tws_time(s.completedTime),
            completed_status=s.completedStatus,
            warning_text=s.warningText,
        )
    # The sim answers "after" values only; the clients finish a what-if request only when
    # initMarginChange is set, so "before" is an empty account and the change is the after.
    init_after = s.initMarginAfter if s.initMarginAfter is not None else _ZERO
    maint_after = s.maintMarginAfter if s.maintMarginAfter is not None else _ZERO
    ewl = s.equityWithLoanAfter if s.equityWithLoanAfter is not None else _ZERO
    return wire.OrderState(
        status=s.status,
        init_margin_before=_ZERO,
        maint_margin_before=_ZERO,
        equity_with_loan_before=ewl,
        init_margin_change=init_after,
        maint_margin_change=maint_after,
        equity_with_loan_change=_ZERO,
        init_margin_after=init_after,
        maint_margin_after=maint_after,
        equity_with_loan_after=ewl,
        commission=s.commission,
        commission_currency=s.commissionCurrency,
        warning_text=s.warningText,
    )


def _wire_execution(e: sim.Execution) -> wire.Execution:
    return wire.Execution(
        exec_id=e.execId,
        time=e.time,
        account=e.acctNumber,
        exchange=e.exchange,
        side=e.side,
        shares=e.shares,
        price=e.price,
        cum_qty=e.cumQty,
        avg_price=e.avgPrice,
        order_id=e.orderId,
        perm_id=e.permId,
        client_id=e.clientId,
        liquidation=e.liquidation,
        order_ref=e.orderRef,
        last_liquidity=e.lastLiquidity,
    )


# --- sim message -> frame fields ----------------------------------------------------------


def _error(m: sim.Error, v: int) -> Fields:
    advanced = m.advancedOrderRejectJson if v >= 166 else ""
    return sess.encode_error(
        server_version=v,
        req_id=m.reqId,
        code=m.errorCode,
        message=m.errorString,
        advanced_order_reject_json=advanced,
    )


def _order_status(m: sim.OrderStatus, v: int) -> Fields:
    return orders.encode_order_status(
        order_id=m.orderId,
        status=m.status,
        filled=m.filled,
        remaining=m.remaining,
        avg_fill_price=m.avgFillPrice,
        perm_id=m.permId,
        parent_id=m.parentId,
        last_fill_price=m.lastFillPrice,
        client_id=m.clientId,
        why_held=m.whyHeld,
        mkt_cap_price=m.mktCapPrice,
    )


def _open_order(m: sim.OpenOrder, v: int) -> Fields:
    order = _wire_order(m.order)
    if order.order_id != m.orderId:
        order = _replace_order_id(order, m.orderId)
    return orders.encode_open_order(
        server_version=v,
        contract=wire_contract(m.contract),
        order=order,
        state=_wire_state(m.orderState, what_if=m.order.whatIf),
    )


def _replace_order_id(order: wire.Order, order_id: int) -> wire.Order:
    return replace(order, order_id=order_id)


def _completed_order(m: sim.CompletedOrder, v: int) -> Fields:
    return orders.encode_completed_order(
        server_version=v,
        contract=wire_contract(m.contract),
        order=_wire_order(m.order),
        state=_wire_state(m.orderState, what_if=False),
    )


def _exec_details(m: sim.ExecDetails, v: int) -> Fields:
    return exe.encode_exec_details(
        server_version=v,
        req_id=m.reqId,
        contract=wire_contract(m.contract),
        execution=_wire_execution(m.execution),
    )


def _commission(m: sim.CommissionReport, v: int) -> Fields:
    return exe.encode_commission_report(
        wire.CommissionReport(
            exec_id=m.execId,
            commission=m.commission,
            currency=m.currency,
            realized_pnl=m.realizedPNL,
            yield_=m.yield_,
            yield_redemption_date=m.yieldRedemptionDate,
        )
    )


def _position(m: sim.Position, v: int) -> Fields:
    return acct.encode_position(
        account=m.account,
        contract=wire_contract(m.contract),
        position=m.position,
        avg_cost=m.avgCost,
    )


def _portfolio_value(m: sim.PortfolioValue, v: int) -> Fields:
    return acct.encode_portfolio_value(
        contract=wire_contract(m.contract),
        position=m.position,
        market_price=m.marketPrice,
        market_value=m.marketValue,
        average_cost=m.averageCost,
        unrealized_pnl=m.unrealizedPNL,
        realized_pnl=m.realizedPNL,
        account=m.accountName,
    )


def _contract_details(m: sim.ContractDetails, v: int) -> Fields:
    details = wire.ContractDetails(
        contract=wire_contract(m.contract),
        market_name=m.marketName,
        min_tick=m.minTick,
        long_name=m.longName,
        order_types="LMT,MKT",
        valid_exchanges="SMART," + (m.contract.primaryExchange or "NYSE"),
        time_zone_id="US/Eastern",
        stock_type="COMMON" if m.contract.secType == "STK" else "",
    )
    return cds.encode_contract_details(server_version=v, req_id=m.reqId, details=details)


_ENCODERS: Final[dict[type[Any], Callable[[Any, int], Fields]]] = {
    sim.NextValidId: lambda m, v: sess.encode_next_valid_id(m.orderId),
    sim.ManagedAccounts: lambda m, v: sess.encode_managed_accounts(m.accountsList.split(",")),
    sim.CurrentTime: lambda m, v: sess.encode_current_time(int(m.time.timestamp())),
    sim.Error: _error,
    sim.OrderStatus: _order_status,
    sim.OpenOrder: _open_order,
    sim.OpenOrderEnd: lambda m, v: orders.encode_open_order_end(),
    sim.CompletedOrder: _completed_order,
    sim.CompletedOrdersEnd: lambda m, v: orders.encode_completed_orders_end(),
    sim.ExecDetails: _exec_details,
    sim.ExecDetailsEnd: lambda m, v: exe.encode_exec_details_end(m.reqId),
    sim.CommissionReport: _commission,
    sim.Position: _position,
    sim.PositionEnd: lambda m, v: acct.encode_position_end(),
    sim.AccountDownloadEnd: lambda m, v: acct.encode_account_download_end(m.accountName),
    sim.AccountValue: lambda m, v: acct.encode_account_value(
        key=m.key, value=m.value, currency=m.currency, account=m.accountName
    ),
    sim.PortfolioValue: _portfolio_value,
    sim.AccountUpdateTime: lambda m, v: acct.encode_account_update_time(
        m.time.astimezone(timezone.utc).strftime("%H:%M")
    ),
    sim.AccountUpdateMulti: lambda m, v: acct.encode_account_update_multi(
        req_id=m.reqId,
        account=m.account,
        model_code=m.modelCode,
        key=m.key,
        value=m.value,
        currency=m.currency,
    ),
    sim.AccountUpdateMultiEnd: lambda m, v: acct.encode_account_update_multi_end(m.reqId),
    sim.AccountSummary: lambda m, v: acct.encode_account_summary(
        req_id=m.reqId, account=m.account, tag=m.tag, value=m.value, currency=m.currency
    ),
    sim.AccountSummaryEnd: lambda m, v: acct.encode_account_summary_end(m.reqId),
    sim.ContractDetails: _contract_details,
    sim.ContractDetailsEnd: lambda m, v: cds.encode_contract_details_end(m.reqId),
}


def encode_sim_message(message: sim.Message, server_version: int) -> Fields:
    """The fields of the TWS frame that carries ``message`` at ``server_version``."""
    encoder = _ENCODERS.get(type(message))
    if encoder is None:
        raise UsageError(f"{type(message).__name__} is not a TWS message")
    return encoder(message, server_version)


# --- wire request -> sim values -----------------------------------------------------------


def sim_contract(c: wire.Contract) -> sim.Contract:
    """A client's contract as the sim's request value (empty fields take IB's defaults)."""
    return sim.Contract(
        conId=c.con_id,
        symbol=c.symbol,
        secType=c.sec_type or "STK",
        exchange=c.exchange or "SMART",
        primaryExchange=c.primary_exchange,
        currency=c.currency or "USD",
        localSymbol=c.local_symbol,
        tradingClass=c.trading_class,
    )


def sim_order(p: PlaceOrder) -> sim.Order:
    return sim.Order(
        orderId=p.order_id,
        action=p.action,
        totalQuantity=p.total_quantity,
        orderType=p.order_type,
        lmtPrice=p.lmt_price,
        auxPrice=p.aux_price,
        tif=p.tif or "DAY",
        account=p.account,
        orderRef=p.order_ref,
        transmit=p.transmit,
        parentId=p.parent_id,
        whatIf=p.what_if,
    )
