"""Translation between the simulated TWS's messages and the engine's types.

The field-by-field mapping is the IB connector's own (`ibguard.engine.connector.translate`):
the sim's messages carry IB's field names, so the same duck-typed functions read them, and the
sim's Decimals and aware datetimes pass through them unchanged. This module only adapts at the
edge: it unpacks a whole sim message into the arguments those functions take, turns a sim
OrderStatus into their `RawStatus`, and builds the sim's Contract / Order from their keyword
fields. A message the engine's types cannot represent (an order type other than MKT/LMT)
raises UsageError there, at the connector, never inside the engine.
"""

from __future__ import annotations

from ibguard.engine.commands import PlaceOrder
from ibguard.engine.connector import translate as tr
from ibguard.engine.connector.translate import (
    Margin,
    commission_report,
    instrument_of,
    margin_of,
    what_if_result,
)
from ibguard.engine.events import (
    BrokerError,
    ExecutionReport,
    OpenOrderReport,
    OrderStatusReport,
    PositionReport,
)
from ibguard.engine.model import Instrument, OrderRequest
from ibguard.kit.sim import messages as ib

__all__ = [
    "Margin",
    "broker_error",
    "commission_report",
    "contract_of",
    "execution_report",
    "instrument_of",
    "margin_of",
    "open_order_report",
    "order_of",
    "order_status_report",
    "place_order_of",
    "position_report",
    "what_if_result",
]


# --- engine -> sim ------------------------------------------------------------------------


def contract_of(instrument: Instrument) -> ib.Contract:
    return ib.Contract(**tr.contract_fields(instrument))


def order_of(
    request: OrderRequest, *, account: str, order_ref: str = "", what_if: bool = False
) -> ib.Order:
    fields = tr.order_fields(request, account=account, order_ref=order_ref, what_if=what_if)
    return ib.Order(**fields)


def place_order_of(command: PlaceOrder) -> tuple[ib.Contract, ib.Order]:
    order = order_of(command.request, account=command.account, order_ref=command.order_ref)
    return contract_of(command.request.instrument), order


# --- sim -> engine ------------------------------------------------------------------------


def _raw_status(msg: ib.OrderStatus) -> tr.RawStatus:
    return tr.RawStatus(
        msg.orderId,
        msg.status,
        msg.filled,
        msg.remaining,
        msg.avgFillPrice,
        msg.permId,
        msg.clientId,
        msg.whyHeld,
    )


def open_order_report(
    contract: ib.Contract,
    order: ib.Order,
    state: ib.OrderState,
    status: ib.OrderStatus | None = None,
) -> OpenOrderReport:
    """openOrder or completedOrder, with the orderStatus that followed it when there was one."""
    raw = _raw_status(status) if status is not None else None
    return tr.open_order_report(contract, order, state, raw)


def order_status_report(msg: ib.OrderStatus) -> OrderStatusReport:
    return tr.order_status_report(_raw_status(msg))


def execution_report(msg: ib.ExecDetails) -> ExecutionReport:
    return tr.execution_report(msg.contract, msg.execution)


def position_report(msg: ib.Position) -> PositionReport:
    return tr.position_report(msg.account, msg.contract, msg.position, msg.avgCost)


def broker_error(msg: ib.Error) -> BrokerError:
    return tr.broker_error(msg.reqId, msg.errorCode, msg.errorString)
