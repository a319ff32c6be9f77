"""Translation between the simulated TWS's messages and the engine's types.

Owns the field-by-field mapping in both directions: engine commands' order requests to
IB Contract/Order, and IB messages to engine events. Pure functions, no state; a message
the engine's types cannot represent (an order type other than MKT/LMT) raises UsageError
here, at the connector, never inside the engine.
"""

from __future__ import annotations

from decimal import Decimal

from ibguard.engine.commands import PlaceOrder
from ibguard.engine.errors import UsageError
from ibguard.engine.events import (
    BrokerError,
    CommissionReport,
    ExecutionReport,
    OpenOrderReport,
    OrderStatusReport,
    PositionReport,
)
from ibguard.engine.model import Instrument, OrderRequest, OrderType, Side, TimeInForce
from ibguard.kit.sim import messages as ib

__all__ = [
    "broker_error",
    "commission_report",
    "contract_of",
    "execution_report",
    "instrument_of",
    "open_order_report",
    "order_of",
    "order_status_report",
    "position_report",
]

_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL, "BOT": Side.BUY, "SLD": Side.SELL}


def instrument_of(contract: ib.Contract) -> Instrument:
    return Instrument(
        symbol=contract.symbol,
        con_id=contract.conId,
        sec_type=contract.secType,
        exchange=contract.exchange or "SMART",
        currency=contract.currency,
    )


def contract_of(instrument: Instrument) -> ib.Contract:
    return ib.Contract(
        conId=instrument.con_id,
        symbol=instrument.symbol,
        secType=instrument.sec_type,
        exchange=instrument.exchange,
        currency=instrument.currency,
    )


def order_of(
    request: OrderRequest, *, account: str, order_ref: str = "", what_if: bool = False
) -> ib.Order:
    return ib.Order(
        action=request.side.value,
        totalQuantity=request.quantity,
        orderType=request.order_type.value,
        lmtPrice=request.limit_price,
        tif=request.tif.value,
        account=account,
        orderRef=order_ref,
        whatIf=what_if,
    )


def place_order_of(command: PlaceOrder) -> tuple[ib.Contract, ib.Order]:
    order = order_of(command.request, account=command.account, order_ref=command.order_ref)
    return contract_of(command.request.instrument), order


def open_order_report(
    contract: ib.Contract,
    order: ib.Order,
    state: ib.OrderState,
    status: ib.OrderStatus | None = None,
) -> OpenOrderReport:
    """openOrder or completedOrder, with the orderStatus that followed it when there was one."""
    filled = status.filled if status is not None else order.filledQuantity or Decimal(0)
    remaining = (
        status.remaining if status is not None else max(order.totalQuantity - filled, Decimal(0))
    )
    return OpenOrderReport(
        order_id=order.orderId,
        client_id=order.clientId,
        perm_id=order.permId,
        order_ref=order.orderRef,
        instrument=instrument_of(contract),
        side=_side(order.action),
        quantity=order.totalQuantity,
        order_type=_order_type(order.orderType),
        limit_price=order.lmtPrice if order.orderType == "LMT" else None,
        tif=_tif(order.tif),
        account=order.account,
        status=status.status if status is not None else state.status,
        filled=filled,
        remaining=remaining,
        time=state.completedTime,
    )


def order_status_report(msg: ib.OrderStatus) -> OrderStatusReport:
    return OrderStatusReport(
        order_id=msg.orderId,
        client_id=msg.clientId,
        perm_id=msg.permId,
        status=msg.status,
        filled=msg.filled,
        remaining=msg.remaining,
        avg_fill_price=msg.avgFillPrice,
    )


def execution_report(msg: ib.ExecDetails) -> ExecutionReport:
    ex = msg.execution
    return ExecutionReport(
        exec_id=ex.execId,
        order_id=ex.orderId,
        client_id=ex.clientId,
        perm_id=ex.permId,
        order_ref=ex.orderRef,
        instrument=instrument_of(msg.contract),
        side=_side(ex.side),
        shares=ex.shares,
        price=ex.price,
        time=ex.time,
        account=ex.acctNumber,
        cum_qty=ex.cumQty,
        avg_price=ex.avgPrice,
    )


def commission_report(msg: ib.CommissionReport) -> CommissionReport:
    return CommissionReport(
        exec_id=msg.execId,
        commission=msg.commission,
        currency=msg.currency,
        realized_pnl=msg.realizedPNL,
    )


def position_report(msg: ib.Position) -> PositionReport:
    return PositionReport(
        account=msg.account,
        instrument=instrument_of(msg.contract),
        quantity=msg.position,
        avg_cost=msg.avgCost,
    )


def broker_error(msg: ib.Error) -> BrokerError:
    return BrokerError(req_id=msg.reqId, code=msg.errorCode, message=msg.errorString)


def _side(action: str) -> Side:
    try:
        return _SIDES[action]
    except KeyError:
        raise UsageError(f"unknown order side from the broker: {action!r}") from None


def _order_type(order_type: str) -> OrderType:
    try:
        return OrderType(order_type)
    except ValueError:
        raise UsageError(f"order type {order_type!r} is not supported by the engine") from None


def _tif(tif: str) -> TimeInForce:
    try:
        return TimeInForce(tif)
    except ValueError:
        raise UsageError(f"time in force {tif!r} is not supported by the engine") from None
