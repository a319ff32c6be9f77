"""How TWS checks an order before it accepts it: the error code and text for each refusal.

Owns the checks of a new order and of a modify (placeOrder again with a live order's id), as
pure functions of the order, the instrument's minimum tick and, for a modify, the order as
booked. A refused order is never booked. Codes are IB's (docs/tws-order-errors.md records the
source of each and which ones are ibguard's reading where IB's documentation is silent).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, final

from ibguard.kit.sim.book import SimOrder
from ibguard.kit.sim.messages import Order

__all__ = [
    "SUPPORTED_ORDER_TYPES",
    "SUPPORTED_TIFS",
    "Refusal",
    "check_modify",
    "check_new_order",
]

# Order types TWS accepts for stocks and ETFs routed SMART (the sim matches MKT and LMT; the
# others rest until a case fills them).
SUPPORTED_ORDER_TYPES: Final = frozenset(
    {"MKT", "LMT", "STP", "STP LMT", "MOC", "LOC", "MIT", "LIT", "TRAIL", "TRAIL LIMIT", "REL"}
)
SUPPORTED_TIFS: Final = frozenset({"DAY", "GTC", "IOC", "GTD", "OPG", "FOK", "DTC"})
# Opening orders (OPG) are market or limit orders only.
_OPG_TYPES: Final = frozenset({"MKT", "LMT"})
# Security types whose prices may be negative (spreads and combos).
_NEGATIVE_PRICE_OK: Final = frozenset({"BAG", "FUT"})
_PRICED: Final = frozenset({"LMT", "STP LMT", "LOC", "LIT"})
_STOPPED: Final = frozenset({"STP", "STP LMT", "MIT", "LIT"})


@final
@dataclass(frozen=True, slots=True)
class Refusal:
    code: int
    text: str


def _validation(cause: str) -> Refusal:
    return Refusal(321, f"Error validating request:-'bO' : cause - {cause}")


def check_new_order(order: Order, *, sec_type: str, min_tick: Decimal) -> Refusal | None:
    """The first refusal TWS answers a new order with, or None when it is accepted."""
    if order.eTradeOnly:
        return Refusal(10268, "The 'EtradeOnly' order attribute is not supported.")
    if order.firmQuoteOnly:
        return Refusal(10269, "The 'firmQuoteOnly' order attribute is not supported.")
    kind = order.orderType.upper()
    if kind not in SUPPORTED_ORDER_TYPES:
        return Refusal(387, "Unsupported order type for this exchange and security type.")
    tif = order.tif.upper() or "DAY"
    if tif not in SUPPORTED_TIFS:
        return _validation(f"Invalid time in force: {order.tif}")
    if tif == "OPG" and kind not in _OPG_TYPES:
        return Refusal(111, "The time in force and the order type are incompatible.")
    return _check_terms(order, kind=kind, sec_type=sec_type, min_tick=min_tick)


def _check_terms(order: Order, *, kind: str, sec_type: str, min_tick: Decimal) -> Refusal | None:
    """Quantity and prices: what a modify is checked for too."""
    if order.totalQuantity == 0:
        return Refusal(434, "The order size cannot be zero.")
    if order.totalQuantity < 0:
        return _validation(f"Invalid order quantity: {order.totalQuantity}")
    prices = []
    if kind in _PRICED:
        prices.append(order.lmtPrice)
    if kind in _STOPPED:
        prices.append(order.auxPrice)
    for price in prices:
        if price is None:
            return Refusal(107, "Cannot transmit incomplete order.")
        if price < 0 and sec_type not in _NEGATIVE_PRICE_OK:
            return Refusal(201, "Order rejected - reason:The price must not be negative.")
        if min_tick > 0 and price % min_tick != 0:
            return Refusal(
                110, "The price does not conform to the minimum price variation for this contract."
            )
    return None


def check_modify(booked: SimOrder, order: Order, *, min_tick: Decimal) -> Refusal | None:
    """A placeOrder with the id of a live order changes its price, quantity or TIF; TWS
    refuses a different side (105), a quantity the fills already passed, and bad terms."""
    if order.action != booked.action:
        return Refusal(105, "Order being modified does not match original order.")
    kind = (order.orderType or booked.order_type).upper()
    if kind not in SUPPORTED_ORDER_TYPES:
        return Refusal(387, "Unsupported order type for this exchange and security type.")
    tif = (order.tif or booked.tif).upper()
    if tif not in SUPPORTED_TIFS:
        return _validation(f"Invalid time in force: {order.tif}")
    refusal = _check_terms(order, kind=kind, sec_type=booked.contract.secType, min_tick=min_tick)
    if refusal is not None:
        return refusal
    if order.totalQuantity < booked.filled:
        return Refusal(134, "Modify order failed. The quantity is below the filled quantity.")
    return None
