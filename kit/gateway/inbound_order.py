"""Client-to-server placeOrder(3): the positional order layout, read field by field.

The layout is the one both pinned clients write at each server version: 29 fixed leading
positions (orderId, 12 contract fields, secIdType, secId, action, ... hidden), optional blocks
announced by the field before them (BAG legs, delta-neutral order, scale, hedge, delta-neutral
contract, algo params, PEG BENCH, conditions), then version-gated tails (faProfile below 177,
duration from 158, postToAts from 160, autoCancelParent from 162, advancedErrorOverride from
166, manualOrderTime from 169, PEG fields from 170). Fields the gateway does not act on are
read and dropped; the request must end exactly where the layout does. The order and its
contract are read straight into the shared vocabulary (`kit.sim.messages.Contract` / `Order`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Final, final

from ibguard.kit.gateway.errors import PeerProtocolError
from ibguard.kit.gateway.message_ids import In
from ibguard.kit.gateway.registry import TwsRequest, decodes
from ibguard.kit.gateway.wire_values import FieldCursor
from ibguard.kit.sim.messages import Contract, Order

__all__ = ["PlaceOrder", "decode_place_order", "read_contract", "read_place_order"]

# Fields after the type of each order condition (price, time, margin, execution, volume,
# percent change), as IB defines them.
_CONDITION_SIZES: Final = {1: 6, 3: 3, 4: 3, 5: 4, 6: 5, 7: 5}
_UNSET_DOUBLE: Final = Decimal("1.7976931348623157E308")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceOrder(TwsRequest):
    """placeOrder as the client sent it: empty text fields stay empty (IB's defaults are the
    broker's business), unset doubles are None."""

    order_id: int
    contract: Contract
    order: Order
    algo_strategy: str
    algo_params: tuple[tuple[str, str], ...]
    conditions: tuple[tuple[str, ...], ...]  # raw, type first
    manual_order_time: str  # from server version 169


def read_contract(cur: FieldCursor, *, with_sec_id: bool) -> Contract:
    """The 12 contract fields the clients send (11 plus primaryExchange), and optionally the
    secIdType/secId pair that placeOrder sends right after them."""
    contract = Contract(
        conId=cur.read_int("conId"),
        symbol=cur.read_str("symbol"),
        secType=cur.read_str("secType"),
        lastTradeDateOrContractMonth=cur.read_str("lastTradeDateOrContractMonth"),
        strike=cur.read_decimal("strike") or Decimal(0),
        right=cur.read_str("right"),
        multiplier=cur.read_str("multiplier"),
        exchange=cur.read_str("exchange"),
        primaryExchange=cur.read_str("primaryExchange"),
        currency=cur.read_str("currency"),
        localSymbol=cur.read_str("localSymbol"),
        tradingClass=cur.read_str("tradingClass"),
    )
    if not with_sec_id:
        return contract
    return replace(contract, secIdType=cur.read_str("secIdType"), secId=cur.read_str("secId"))


def _count(cur: FieldCursor, name: str) -> int:
    n = cur.read_int(name)
    if n < 0:
        raise PeerProtocolError(f"negative count in {name}: {n}")
    return n


def _skip_bag_legs(cur: FieldCursor) -> None:
    cur.skip("comboLeg", 8 * _count(cur, "comboLegs"))
    cur.skip("orderComboLeg price", _count(cur, "orderComboLegs"))
    cur.skip("smartComboRoutingParam", 2 * _count(cur, "smartComboRoutingParams"))


def _conditions(cur: FieldCursor) -> tuple[tuple[str, ...], ...]:
    out: list[tuple[str, ...]] = []
    for _ in range(_count(cur, "conditions")):
        kind = cur.read_int("condType")
        size = _CONDITION_SIZES.get(kind)
        if size is None:
            raise PeerProtocolError(f"unknown order condition type {kind}")
        out.append((str(kind), *(cur.read_str("condition field") for _ in range(size))))
    if out:
        cur.skip("conditionsIgnoreRth/conditionsCancelOrder", 2)
    return tuple(out)


def _peg_tail(cur: FieldCursor, contract: Contract, order_type: str) -> None:
    """Server version 170 and later: PEG BEST/MID and IBKRATS fields."""
    if contract.exchange == "IBKRATS":
        cur.skip("minTradeQty")
    kind = order_type.replace(" ", "")
    if kind == "PEGBEST":
        cur.skip("minCompeteSize")
        if cur.read_decimal("competeAgainstBestOffset", infinite_ok=True) == Decimal("Infinity"):
            cur.skip("midOffsetAtWhole/Half", 2)
    elif kind == "PEGMID":
        cur.skip("midOffsetAtWhole/Half", 2)


def decode_place_order(fields: Sequence[str], server_version: int) -> PlaceOrder:
    """A whole placeOrder frame's fields (message id first)."""
    cur = FieldCursor(fields)
    order = read_place_order(cur, server_version)
    cur.finish("placeOrder")
    return order


@decodes(In.PLACE_ORDER)
def read_place_order(cur: FieldCursor, server_version: int) -> PlaceOrder:
    """Read placeOrder from just after its message id up to its last field."""
    order_id = cur.read_request_id("orderId")
    contract = read_contract(cur, with_sec_id=True)
    action = cur.read_str("action")
    total_quantity = cur.read_decimal("totalQuantity") or Decimal(0)
    order_type = cur.read_str("orderType")
    lmt_price = cur.read_decimal("lmtPrice")
    aux_price = cur.read_decimal("auxPrice")
    tif = cur.read_str("tif")
    oca_group = cur.read_str("ocaGroup")
    account = cur.read_str("account")
    open_close = cur.read_str("openClose")
    origin = cur.read_int("origin")
    order_ref = cur.read_str("orderRef")
    transmit = cur.read_bool("transmit")
    parent_id = cur.read_int("parentId")
    cur.skip("blockOrder/sweepToFill/displaySize/triggerMethod", 4)
    outside_rth = cur.read_bool("outsideRth")
    hidden = cur.read_bool("hidden")
    if contract.secType == "BAG":
        _skip_bag_legs(cur)
    cur.skip("sharesAllocation")
    cur.skip("discretionaryAmt")
    good_after_time = cur.read_str("goodAfterTime")
    good_till_date = cur.read_str("goodTillDate")
    cur.skip("faGroup/faMethod/faPercentage", 3)
    if server_version < 177:
        cur.skip("faProfile")
    model_code = cur.read_str("modelCode")
    # shortSaleSlot, designatedLocation, exemptCode, ocaType, rule80A, settlingFirm,
    # allOrNone, minQty, percentOffset; the two attributes TWS no longer accepts; then
    # nbboPriceCap .. overridePercentageConstraints, volatility, volatilityType
    cur.skip("shortSaleSlot..percentOffset", 9)
    e_trade_only = cur.read_bool("eTradeOnly")
    firm_quote_only = cur.read_bool("firmQuoteOnly")
    cur.skip("nbboPriceCap..volatilityType", 10)
    delta_neutral_order_type = cur.read_str("deltaNeutralOrderType")
    cur.skip("deltaNeutralAuxPrice")
    if delta_neutral_order_type:
        cur.skip("deltaNeutral order block", 8)
    cur.skip("continuousUpdate/referencePriceType", 2)
    trail_stop_price = cur.read_decimal("trailStopPrice")
    trailing_percent = cur.read_decimal("trailingPercent")
    cur.skip("scaleInitLevelSize/scaleSubsLevelSize", 2)
    increment = cur.read_decimal("scalePriceIncrement")
    if increment is not None and 0 < increment < _UNSET_DOUBLE:
        cur.skip("scale block", 7)
    cur.skip("scaleTable/activeStartTime/activeStopTime", 3)
    if cur.read_str("hedgeType"):
        cur.skip("hedgeParam")
    cur.skip("optOutSmartRouting/clearingAccount/clearingIntent/notHeld", 4)
    if cur.read_bool("deltaNeutralContract present"):
        cur.skip("deltaNeutralContract", 3)
    algo_strategy = cur.read_str("algoStrategy")
    algo_params: tuple[tuple[str, str], ...] = ()
    if algo_strategy:
        n = _count(cur, "algoParams")
        algo_params = tuple((cur.read_str("tag"), cur.read_str("value")) for _ in range(n))
    cur.skip("algoId")
    what_if = cur.read_bool("whatIf")
    cur.skip("orderMiscOptions/solicited/randomizeSize/randomizePrice", 4)
    if order_type.replace(" ", "") == "PEGBENCH":
        cur.skip("PEG BENCH block", 5)
    conditions = _conditions(cur)
    cur.skip("adjustedOrderType..softDollarTier value", 10)
    cash_qty = cur.read_decimal("cashQty")
    cur.skip("mifid2 fields and hedge/OMS/price-management flags", 8)
    for version, name in ((158, "duration"), (160, "postToAts"), (162, "autoCancelParent")):
        if server_version >= version:
            cur.skip(name)
    if server_version >= 166:
        cur.skip("advancedErrorOverride")
    manual_order_time = cur.read_str("manualOrderTime") if server_version >= 169 else ""
    if server_version >= 170:
        _peg_tail(cur, contract, order_type)
    order = Order(
        orderId=order_id,
        action=action,
        totalQuantity=total_quantity,
        orderType=order_type,
        lmtPrice=lmt_price,
        auxPrice=aux_price,
        tif=tif,
        ocaGroup=oca_group,
        account=account,
        openClose=open_close,
        origin=origin,
        orderRef=order_ref,
        transmit=transmit,
        parentId=parent_id,
        outsideRth=outside_rth,
        hidden=hidden,
        goodAfterTime=good_after_time,
        goodTillDate=good_till_date,
        trailStopPrice=trail_stop_price,
        trailingPercent=trailing_percent,
        cashQty=cash_qty,
        modelCode=model_code,
        whatIf=what_if,
        eTradeOnly=e_trade_only,
        firmQuoteOnly=firm_quote_only,
    )
    return PlaceOrder(
        order_id=order_id,
        contract=contract,
        order=order,
        algo_strategy=algo_strategy,
        algo_params=algo_params,
        conditions=conditions,
        manual_order_time=manual_order_time,
    )
