"""Everything `Engine.handle()` returns: the only things the engine may ask of the broker.

A connector implements `BrokerPort.send()` for each of these and nothing else; an engine
that needs the broker for anything not listed here is breaking the boundary (BOUNDARY-02).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from ibguard.engine.model import Instrument, OrderRequest

__all__ = [
    "CancelOrder",
    "Command",
    "PlaceOrder",
    "RequestCompletedOrders",
    "RequestContractDetails",
    "RequestExecutions",
    "RequestOpenOrders",
    "RequestPositions",
    "RequestServerTime",
    "RequestWhatIf",
]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceOrder:
    """placeOrder with the engine-allocated orderId; `order_ref` carries the namespaced oms_id."""

    oms_id: str
    order_id: int
    order_ref: str
    account: str
    request: OrderRequest


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder:
    oms_id: str
    order_id: int
    perm_id: int | None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestOpenOrders:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCompletedOrders:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestExecutions:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestPositions:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestServerTime:
    pass


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestContractDetails:
    """reqContractDetails: the broker's current identity of an instrument we trade; the
    answer is a ContractDetails event (a changed symbol or conId shows a corporate action)."""

    instrument: Instrument


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestWhatIf:
    """What-if check of a batch of orders (IB: placeOrder with whatIf=True per order);
    answered by one WhatIfResult with the same request_id."""

    request_id: int
    account: str
    orders: tuple[OrderRequest, ...]


Command = (
    PlaceOrder
    | CancelOrder
    | RequestOpenOrders
    | RequestCompletedOrders
    | RequestExecutions
    | RequestPositions
    | RequestServerTime
    | RequestContractDetails
    | RequestWhatIf
)
