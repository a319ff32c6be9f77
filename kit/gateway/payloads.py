"""IB-shaped values the outbound encoders take (and the inbound decoders produce).

Field names follow IB's (``conId`` becomes ``con_id``) so SimBroker messages map onto them one
to one. Money and quantities are Decimal; ``None`` on a Decimal field means IB's "unset". Only
the fields a simulated account needs are here; every other wire field is sent as IB's default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import final

from ibguard.errors import UsageError

__all__ = [
    "CommissionReport",
    "Contract",
    "ContractDetails",
    "Execution",
    "Order",
    "OrderState",
]

_ZERO = Decimal(0)


def _require_finite(owner: object, **values: Decimal | None) -> None:
    for name, value in values.items():
        if value is not None and not value.is_finite():
            raise UsageError(f"{type(owner).__name__}.{name} must be finite, got {value}")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade_date: str = ""  # IB's lastTradeDateOrContractMonth
    strike: Decimal = _ZERO
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    sec_id_type: str = ""
    sec_id: str = ""

    def __post_init__(self) -> None:
        _require_finite(self, strike=self.strike)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """An order as TWS reports it in openOrder / completedOrder."""

    action: str
    total_quantity: Decimal
    order_type: str
    order_id: int = 0
    client_id: int = 0
    perm_id: int = 0
    lmt_price: Decimal | None = None
    aux_price: Decimal | None = None
    tif: str = ""
    oca_group: str = ""
    account: str = ""
    open_close: str = ""
    origin: int = 0
    order_ref: str = ""
    outside_rth: bool = False
    hidden: bool = False
    parent_id: int = 0
    good_after_time: str = ""
    good_till_date: str = ""
    trail_stop_price: Decimal | None = None
    trailing_percent: Decimal | None = None
    cash_qty: Decimal | None = None
    model_code: str = ""
    what_if: bool = False
    filled_quantity: Decimal | None = None  # completedOrder only
    parent_perm_id: int = 0  # completedOrder only

    def __post_init__(self) -> None:
        _require_finite(
            self,
            total_quantity=self.total_quantity,
            lmt_price=self.lmt_price,
            aux_price=self.aux_price,
            trail_stop_price=self.trail_stop_price,
            trailing_percent=self.trailing_percent,
            cash_qty=self.cash_qty,
            filled_quantity=self.filled_quantity,
        )
        # These types make the decoders read extra blocks the gateway does not model, and
        # the two clients disagree on the spelling that triggers them.
        if self.order_type.replace(" ", "") in {"PEGBENCH", "PEGBEST", "PEGMID"}:
            raise UsageError(f"order type {self.order_type!r} is not supported by the gateway")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderState:
    """Status plus what-if margin and commission; None margins are IB's unset double."""

    status: str
    init_margin_before: Decimal | None = None
    maint_margin_before: Decimal | None = None
    equity_with_loan_before: Decimal | None = None
    init_margin_change: Decimal | None = None
    maint_margin_change: Decimal | None = None
    equity_with_loan_change: Decimal | None = None
    init_margin_after: Decimal | None = None
    maint_margin_after: Decimal | None = None
    equity_with_loan_after: Decimal | None = None
    commission: Decimal | None = None
    min_commission: Decimal | None = None
    max_commission: Decimal | None = None
    commission_currency: str = ""
    warning_text: str = ""
    completed_time: str = ""  # completedOrder only
    completed_status: str = ""  # completedOrder only

    def __post_init__(self) -> None:
        _require_finite(
            self,
            init_margin_before=self.init_margin_before,
            maint_margin_before=self.maint_margin_before,
            equity_with_loan_before=self.equity_with_loan_before,
            init_margin_change=self.init_margin_change,
            maint_margin_change=self.maint_margin_change,
            equity_with_loan_change=self.equity_with_loan_change,
            init_margin_after=self.init_margin_after,
            maint_margin_after=self.maint_margin_after,
            equity_with_loan_after=self.equity_with_loan_after,
            commission=self.commission,
            min_commission=self.min_commission,
            max_commission=self.max_commission,
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Execution:
    exec_id: str
    time: datetime  # timezone-aware broker time
    account: str
    exchange: str
    side: str  # BOT or SLD
    shares: Decimal
    price: Decimal
    cum_qty: Decimal
    avg_price: Decimal
    order_id: int = 0
    perm_id: int = 0
    client_id: int = 0
    liquidation: int = 0
    order_ref: str = ""
    ev_rule: str = ""
    ev_multiplier: Decimal | None = None
    model_code: str = ""
    last_liquidity: int = 0
    pending_price_revision: bool = False  # on the wire from server version 178

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise UsageError("Execution.time must be timezone-aware")
        if self.side not in {"BOT", "SLD"}:
            raise UsageError(f"Execution.side must be BOT or SLD, got {self.side!r}")
        _require_finite(
            self,
            shares=self.shares,
            price=self.price,
            cum_qty=self.cum_qty,
            avg_price=self.avg_price,
            ev_multiplier=self.ev_multiplier,
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CommissionReport:
    exec_id: str
    commission: Decimal
    currency: str
    realized_pnl: Decimal | None = None  # None: IB's unset (an opening fill)
    yield_: Decimal | None = None
    yield_redemption_date: int = 0  # YYYYMMDD, 0 when none

    def __post_init__(self) -> None:
        _require_finite(
            self, commission=self.commission, realized_pnl=self.realized_pnl, yield_=self.yield_
        )


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ContractDetails:
    contract: Contract
    market_name: str = ""
    min_tick: Decimal = Decimal("0.01")
    order_types: str = ""
    valid_exchanges: str = ""
    price_magnifier: int = 1
    under_con_id: int = 0
    long_name: str = ""
    contract_month: str = ""
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    time_zone_id: str = ""
    trading_hours: str = ""
    liquid_hours: str = ""
    ev_rule: str = ""
    ev_multiplier: int = 0
    sec_ids: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    agg_group: int = 0
    under_symbol: str = ""
    under_sec_type: str = ""
    market_rule_ids: str = ""
    real_expiration_date: str = ""
    last_trade_time: str = ""
    stock_type: str = ""
    min_size: Decimal = Decimal(1)
    size_increment: Decimal = Decimal(1)
    suggested_size_increment: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        _require_finite(
            self,
            min_tick=self.min_tick,
            min_size=self.min_size,
            size_increment=self.size_increment,
            suggested_size_increment=self.suggested_size_increment,
        )
        if not self.long_name.isascii():
            # ib_async decodes longName with "unicode-escape", which mangles non-ASCII text.
            raise UsageError("ContractDetails.long_name must be ASCII")
