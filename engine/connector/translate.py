"""Field-by-field translation between the broker library's objects and the engine's types.

Pure functions, no state, no imports of the broker library: inputs are duck-typed
(ib_async and ib_insync objects have the same field names), outputs are engine events or
keyword dicts (typed: `ContractFields`, `OrderFields`) the connector turns into the library's
`Contract` / `Order`, and the simulator into its IB-shaped ones.

Numbers: the library hands out floats (and strings in OrderState); each becomes
`Decimal(str(x))` (a Decimal keeps its digits), and IB's "unset" sentinels become None.
Times: aware UTC datetimes from the broker's own fields (an IB time string, or a datetime
as the simulator gives). A value the engine's types cannot hold (an order type other than
MKT/LMT, a missing quantity) raises `BrokerProtocolError` here, at the connector, never in
the engine.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NamedTuple, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ibguard.engine.events import (
    BrokerError,
    CommissionReport,
    ExecutionReport,
    OpenOrderReport,
    OrderStatusReport,
    PositionReport,
    WhatIfResult,
)
from ibguard.engine.model import Instrument, OrderRequest, OrderType, Side, TimeInForce
from ibguard.errors import BrokerProtocolError

__all__ = [
    "MAX_EXPONENT",
    "UNSET_DOUBLE",
    "UNSET_INTEGER",
    "ContractFields",
    "Margin",
    "OrderFields",
    "RawStatus",
    "broker_error",
    "commission_of_fields",
    "commission_report",
    "contract_fields",
    "decimal_of",
    "execution_report",
    "instrument_of",
    "margin_of",
    "open_order_report",
    "optional_decimal",
    "order_fields",
    "order_status_of_fields",
    "order_status_report",
    "parse_ib_time",
    "position_report",
    "utc",
    "what_if_result",
]

UNSET_DOUBLE: Final = sys.float_info.max  # IB's "no value" for doubles
UNSET_INTEGER: Final = 2**31 - 1  # and for integers
_UNSET_DECIMAL: Final = Decimal(str(UNSET_DOUBLE))
MAX_EXPONENT: Final = 40  # |adjusted exponent| of any number the engine accepts
_SIDES: Final = {"BUY": Side.BUY, "SELL": Side.SELL, "BOT": Side.BUY, "SLD": Side.SELL}


class RawStatus(NamedTuple):
    """The fields of one orderStatus callback that the engine uses (a tuple: built for
    every status message, it costs a fraction of a frozen dataclass)."""

    order_id: int
    status: str
    filled: Any
    remaining: Any
    avg_fill_price: Any
    perm_id: int
    client_id: int
    why_held: str = ""


class ContractFields(TypedDict):
    """Keyword arguments of an IB Contract, as `contract_fields` gives them."""

    conId: int
    symbol: str
    secType: str
    exchange: str
    currency: str


class _RequiredOrderFields(TypedDict):
    orderId: int
    action: str
    totalQuantity: Decimal
    orderType: str
    tif: str
    account: str
    orderRef: str
    whatIf: bool


class OrderFields(_RequiredOrderFields, total=False):
    """Keyword arguments of an IB Order, as `order_fields` gives them (no lmtPrice: unset)."""

    lmtPrice: Decimal


@dataclass(frozen=True, slots=True)
class Margin:
    """One what-if answer, reduced to what decides margin_ok."""

    ok: bool
    init_after: Decimal | None
    equity_after: Decimal | None
    warning: str


# --- values ------------------------------------------------------------------------------


def optional_decimal(value: object) -> Decimal | None:
    """Float, Decimal, int or numeric string -> Decimal; None, "" and IB's unset -> None."""
    if isinstance(value, float):  # prices: most often one of a few values, so remembered
        known = _FLOATS.get(value)
        if known is not None:
            return known
        if value == UNSET_DOUBLE:
            return None
    elif type(value) is str:  # the wire's own text (orderStatus): remembered the same way
        known = _TEXTS.get(value)
        if known is not None:
            return known
    elif isinstance(value, Decimal):  # sizes: the library made it from the wire's text
        return None if value == _UNSET_DECIMAL else _bounded(value, value)
    if value is None or value in ("", UNSET_DOUBLE):
        return None
    if isinstance(value, bool):
        raise BrokerProtocolError(f"not a number: {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BrokerProtocolError(f"not a number: {value!r}") from None
    if number == _UNSET_DECIMAL:  # the sentinel printed as text (OrderState fields)
        return None
    number = _bounded(number, value)
    if isinstance(value, float) and value and len(_FLOATS) < _KEPT:  # not +-0.0
        _FLOATS[value] = number
    elif type(value) is str and len(_TEXTS) < _KEPT:
        _TEXTS[value] = number
    return number


_FLOATS: dict[float, Decimal] = {}
_TEXTS: dict[str, Decimal] = {}
_KEPT: Final = 4096  # per kind: enough for a day's prices and sizes, bounded


def _bounded(number: Decimal, value: object) -> Decimal:
    if not number.is_finite() or (
        number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT
    ):
        # no price or quantity is NaN, infinite or beyond 10^40; the journal refuses such
        # numbers too (event_codec.MAX_EXPONENT), so one would poison every restart
        raise BrokerProtocolError(f"number out of range: {str(value)[:40]!r}")
    return number


def decimal_of(name: str, value: object) -> Decimal:
    number = optional_decimal(value)
    if number is None:
        raise BrokerProtocolError(f"{name} is missing (unset) in the broker's message")
    return number


def utc(when: datetime) -> datetime:
    """Aware -> UTC. A naive broker time is read as UTC: IB's zone-less format is UTC."""
    if when.tzinfo is timezone.utc:  # as the clients decode execution times
        return when
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def parse_ib_time(text: object, tws_zone: tzinfo = timezone.utc) -> datetime | None:
    """IB's text times ("20240105 14:30:00 America/New_York", "20240105-14:30:00" in UTC,
    epoch seconds) -> aware UTC; empty -> None. TWS prints "20240105 14:30:00" with no zone
    in the zone it is logged in with: `tws_zone` (EDGE-05)."""
    if isinstance(text, datetime):
        return utc(text)
    if not isinstance(text, str) or not text.strip():
        return None
    s = text.strip()
    if s.isdigit() and len(s) != 8:
        return datetime.fromtimestamp(int(s), timezone.utc)
    if s[8:9] == "-":  # "yyyymmdd-hh:mm:ss" is UTC
        s = s[:8] + " " + s[9:]
        tws_zone = timezone.utc
    parts = s.split(" ", 2)
    if len(parts) < 2:
        raise BrokerProtocolError(f"unreadable broker time {text!r}")
    try:
        naive = datetime.strptime(parts[0] + " " + parts[1], "%Y%m%d %H:%M:%S")  # noqa: DTZ007
        zone = ZoneInfo(parts[2]) if len(parts) == 3 else tws_zone
    except (ValueError, ZoneInfoNotFoundError):
        raise BrokerProtocolError(f"unreadable broker time {text!r}") from None
    return naive.replace(tzinfo=zone).astimezone(timezone.utc)


def _side(action: object) -> Side:
    try:
        return _SIDES[str(action)]
    except KeyError:
        raise BrokerProtocolError(f"unknown order side from the broker: {action!r}") from None


def _order_type(order_type: object) -> OrderType:
    try:
        return OrderType(str(order_type))
    except ValueError:
        raise BrokerProtocolError(
            f"order type {order_type!r} is not supported by the engine"
        ) from None


def _tif(tif: object) -> TimeInForce:
    try:
        return TimeInForce(str(tif))
    except ValueError:
        raise BrokerProtocolError(f"time in force {tif!r} is not supported by the engine") from None


# --- engine -> library -------------------------------------------------------------------


def contract_fields(instrument: Instrument) -> ContractFields:
    return {
        "conId": instrument.con_id,
        "symbol": instrument.symbol,
        "secType": instrument.sec_type,
        "exchange": instrument.exchange,
        "currency": instrument.currency,
    }


def order_fields(
    request: OrderRequest,
    *,
    account: str,
    order_id: int = 0,
    order_ref: str = "",
    what_if: bool = False,
) -> OrderFields:
    """Keyword arguments of the library's Order. Quantities stay Decimal: both clients
    write a Decimal with str(), so the wire gets the exact digits."""
    fields: OrderFields = {
        "orderId": order_id,
        "action": request.side.value,
        "totalQuantity": request.quantity,
        "orderType": request.order_type.value,
        "tif": request.tif.value,
        "account": account,
        "orderRef": order_ref,
        "whatIf": what_if,
    }
    if request.limit_price is not None:
        fields["lmtPrice"] = request.limit_price
    return fields


# --- library -> engine -------------------------------------------------------------------


def instrument_of(contract: Any) -> Instrument:
    key = (contract.symbol, contract.conId, contract.secType, contract.exchange, contract.currency)
    known = _INSTRUMENTS.get(key)
    if known is not None:
        return known  # frozen: one value per contract, shared by every fill of it
    instrument = Instrument(
        symbol=contract.symbol,
        con_id=int(contract.conId or 0),
        sec_type=contract.secType or "STK",
        exchange=contract.exchange or "SMART",
        currency=contract.currency or "USD",
    )
    if len(_INSTRUMENTS) < _INSTRUMENTS_KEPT:
        _INSTRUMENTS[key] = instrument
    return instrument


_INSTRUMENTS: dict[tuple[object, ...], Instrument] = {}
_INSTRUMENTS_KEPT: Final = 4096


def open_order_report(
    contract: Any,
    order: Any,
    state: Any,
    status: RawStatus | None = None,
    tws_zone: tzinfo = timezone.utc,
) -> OpenOrderReport:
    """openOrder or completedOrder, with the orderStatus that followed it when there was one;
    a completed time printed with no zone is in `tws_zone`."""
    quantity = decimal_of("totalQuantity", order.totalQuantity)
    order_type = _order_type(order.orderType)
    if status is not None:
        filled = decimal_of("filled", status.filled)
        remaining = decimal_of("remaining", status.remaining)
    else:
        filled = optional_decimal(order.filledQuantity) or Decimal(0)
        remaining = max(quantity - filled, Decimal(0))
    return OpenOrderReport(
        order_id=int(order.orderId),
        client_id=int(order.clientId),
        perm_id=int(order.permId),
        order_ref=order.orderRef or "",
        instrument=instrument_of(contract),
        side=_side(order.action),
        quantity=quantity,
        order_type=order_type,
        limit_price=optional_decimal(order.lmtPrice) if order_type is OrderType.LIMIT else None,
        tif=_tif(order.tif),
        account=order.account or "",
        status=status.status if status is not None else state.status,
        filled=filled,
        remaining=remaining,
        time=parse_ib_time(getattr(state, "completedTime", ""), tws_zone),
    )


def order_status_of_fields(fields: Sequence[str]) -> OrderStatusReport:
    """An orderStatus message as framed: msgId, orderId, status, filled, remaining,
    avgFillPrice, permId, parentId, lastFillPrice, clientId, whyHeld, mktCapPrice (every
    server version both clients speak). Sizes and prices read from their text, exactly;
    empty numbers are 0, as the clients read them."""
    _, order_id, status, filled, remaining, avg_fill_price, perm_id, _, _, client_id = fields[:10]
    why_held = fields[10] if len(fields) > 10 else ""
    return OrderStatusReport(
        order_id=int(order_id or 0),
        client_id=int(client_id or 0),
        perm_id=int(perm_id or 0),
        status=status,
        filled=decimal_of("filled", filled or "0"),
        remaining=decimal_of("remaining", remaining or "0"),
        avg_fill_price=optional_decimal(avg_fill_price) or Decimal(0),
        why_held=why_held,
    )


def order_status_report(raw: RawStatus) -> OrderStatusReport:
    return OrderStatusReport(
        order_id=raw.order_id,
        client_id=raw.client_id,
        perm_id=raw.perm_id,
        status=raw.status,
        filled=decimal_of("filled", raw.filled),
        remaining=decimal_of("remaining", raw.remaining),
        avg_fill_price=optional_decimal(raw.avg_fill_price) or Decimal(0),
        why_held=raw.why_held,
    )


def execution_report(contract: Any, execution: Any) -> ExecutionReport:
    order_id = int(execution.orderId)
    return ExecutionReport(
        exec_id=execution.execId,
        # TWS sends manual orders' executions with an unset orderId
        order_id=0 if order_id == UNSET_INTEGER else order_id,
        client_id=int(execution.clientId),
        perm_id=int(execution.permId),
        order_ref=execution.orderRef or "",
        instrument=instrument_of(contract),
        side=_side(execution.side),
        shares=decimal_of("shares", execution.shares),
        price=decimal_of("price", execution.price),
        time=utc(execution.time),
        account=execution.acctNumber or "",
        cum_qty=optional_decimal(execution.cumQty) or Decimal(0),
        avg_price=optional_decimal(execution.avgPrice) or Decimal(0),
    )


def commission_of_fields(fields: Sequence[str]) -> CommissionReport:
    """A commissionReport message as framed: msgId, version, execId, commission, currency,
    realizedPNL, yield, yieldRedemptionDate. Numbers read from their text, exactly."""
    _, _, exec_id, commission, currency, realized_pnl = fields[:6]
    return CommissionReport(
        exec_id=exec_id,
        commission=decimal_of("commission", commission or "0"),
        currency=currency or "USD",
        realized_pnl=optional_decimal(realized_pnl),
    )


def commission_report(report: Any) -> CommissionReport:
    return CommissionReport(
        exec_id=report.execId,
        commission=decimal_of("commission", report.commission),
        currency=report.currency or "USD",
        realized_pnl=optional_decimal(report.realizedPNL),
    )


def position_report(
    account: str, contract: Any, position: object, avg_cost: object
) -> PositionReport:
    return PositionReport(
        account=account,
        instrument=instrument_of(contract),
        quantity=decimal_of("position", position),
        avg_cost=optional_decimal(avg_cost) or Decimal(0),
    )


def broker_error(req_id: int, code: int, text: str) -> BrokerError:
    return BrokerError(req_id=int(req_id), code=int(code), message=text or "")


def margin_of(state: Any) -> Margin:
    """A what-if OrderState: within margin unless equity after < initial margin after, or
    the broker warns. Without both numbers only a warning decides (as the simulator does)."""
    init_after = optional_decimal(state.initMarginAfter)
    equity_after = optional_decimal(state.equityWithLoanAfter)
    warning = state.warningText or ""
    if init_after is None or equity_after is None:
        ok = not warning
    else:
        ok = init_after <= equity_after and not warning
    return Margin(ok=ok, init_after=init_after, equity_after=equity_after, warning=warning)


def what_if_result(request_id: int, answers: Sequence[Margin]) -> WhatIfResult:
    """All the answers to one RequestWhatIf: within margin only if every order is; the
    largest initial margin after and the smallest equity after stand for the set."""
    inits = [a.init_after for a in answers if a.init_after is not None]
    equities = [a.equity_after for a in answers if a.equity_after is not None]
    return WhatIfResult(
        request_id=request_id,
        margin_ok=all(a.ok for a in answers),
        detail="; ".join(a.warning for a in answers if a.warning),
        init_margin_after=max(inits) if inits else None,
        equity_with_loan=min(equities) if equities else None,
    )
