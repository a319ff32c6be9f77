"""One sample per outbound encoder: how to build it at a server version, and what the client's
wrapper must receive. Used by the round-trip tests and by the tests that prove they have teeth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ibguard.kit.gateway import outbound_account as acct
from ibguard.kit.gateway import outbound_contract as con
from ibguard.kit.gateway import outbound_executions as exe
from ibguard.kit.gateway import outbound_orders as orders
from ibguard.kit.gateway import outbound_session as session
from ibguard.kit.gateway.payloads import (
    CommissionReport,
    Contract,
    ContractDetails,
    Execution,
    Order,
    OrderState,
)
from ibguard.kit.gateway.wire_values import Fields

from .client_decoders import Call

UNSET_DOUBLE = 1.7976931348623157e308
UNSET_INTEGER = 2**31 - 1


@dataclass(frozen=True)
class Sample:
    name: str
    build: Callable[[int], Fields]
    check: Callable[[Call, int], None]

    def __repr__(self) -> str:
        return self.name


AAPL = Contract(
    con_id=265598,
    symbol="AAPL",
    sec_type="STK",
    exchange="SMART",
    primary_exchange="NASDAQ",
    currency="USD",
    local_symbol="AAPL",
    trading_class="NMS",
)
ES = Contract(
    con_id=495512563,
    symbol="ES",
    sec_type="FUT",
    last_trade_date="20250321",
    multiplier="50",
    exchange="CME",
    currency="USD",
    local_symbol="ESH5",
    trading_class="ES",
)
LIMIT = Order(
    order_id=7,
    client_id=3,
    perm_id=1_900_000_001,
    action="BUY",
    total_quantity=Decimal("100"),
    order_type="LMT",
    lmt_price=Decimal("187.25"),
    tif="DAY",
    account="DU123",
    open_close="O",
    order_ref="oms:abc-1",
    outside_rth=True,
    parent_id=5,
    trail_stop_price=Decimal("180.5"),
    cash_qty=Decimal("0.000001"),
)
WHAT_IF = Order(
    order_id=8,
    client_id=3,
    action="SELL",
    total_quantity=Decimal("2"),
    order_type="MKT",
    account="DU123",
    what_if=True,
)
WHAT_IF_STATE = OrderState(
    status="PreSubmitted",
    init_margin_before=Decimal("1000.5"),
    maint_margin_before=Decimal("900"),
    equity_with_loan_before=Decimal("100000"),
    init_margin_change=Decimal("25000.25"),
    maint_margin_change=Decimal("20000"),
    equity_with_loan_change=Decimal("-3.1"),
    init_margin_after=Decimal("26000.75"),
    maint_margin_after=Decimal("20900"),
    equity_with_loan_after=Decimal("99996.9"),
    commission=Decimal("2.25"),
    min_commission=Decimal("2"),
    max_commission=Decimal("2.5"),
    commission_currency="USD",
    warning_text="check margin",
)
FILL_TIME = datetime(2025, 1, 2, 15, 30, 45, tzinfo=ZoneInfo("America/New_York"))
EXECUTION = Execution(
    exec_id="0000e0d5.6512a9f3.01.01",
    time=FILL_TIME,
    account="DU123",
    exchange="ISLAND",
    side="BOT",
    shares=Decimal("30"),
    price=Decimal("100.10"),
    cum_qty=Decimal("30"),
    avg_price=Decimal("100.1"),
    order_id=7,
    perm_id=1_900_000_001,
    client_id=3,
    order_ref="oms:abc-1",
    last_liquidity=2,
    pending_price_revision=True,
)


def _contract11(c: object, expected: Contract) -> None:
    got = (
        c.conId,  # type: ignore[attr-defined]
        c.symbol,  # type: ignore[attr-defined]
        c.secType,  # type: ignore[attr-defined]
        c.lastTradeDateOrContractMonth,  # type: ignore[attr-defined]
        c.strike,  # type: ignore[attr-defined]
        c.multiplier,  # type: ignore[attr-defined]
        c.exchange,  # type: ignore[attr-defined]
        c.currency,  # type: ignore[attr-defined]
        c.localSymbol,  # type: ignore[attr-defined]
        c.tradingClass,  # type: ignore[attr-defined]
    )
    want = (
        expected.con_id,
        expected.symbol,
        expected.sec_type,
        expected.last_trade_date,
        float(expected.strike),
        expected.multiplier,
        expected.exchange,
        expected.currency,
        expected.local_symbol,
        expected.trading_class,
    )
    assert got == want


def _expect(name: str, *args: object) -> Callable[[Call, int], None]:
    def check(call: Call, version: int) -> None:
        assert (call.name, call.args) == (name, args)

    return check


def _check_error(call: Call, version: int) -> None:
    json = '{"rejectReason":"x"}' if version >= 166 else ""
    assert (call.name, call.args) == ("error", (7, 201, "Order rejected", json))


def _build_error(version: int) -> Fields:
    json = '{"rejectReason":"x"}' if version >= 166 else ""
    return session.encode_error(
        server_version=version,
        req_id=7,
        code=201,
        message="Order rejected",
        advanced_order_reject_json=json,
    )


def _check_open_order(call: Call, version: int) -> None:
    assert call.name == "openOrder"
    order_id, c, o, st = call.args
    assert order_id == 7
    _contract11(c, AAPL)
    assert (o.orderId, o.clientId, o.permId, o.action, o.totalQuantity) == (
        7,
        3,
        1_900_000_001,
        "BUY",
        100.0,
    )
    assert (o.orderType, o.lmtPrice, o.auxPrice, o.tif, o.account) == (
        "LMT",
        187.25,
        UNSET_DOUBLE,
        "DAY",
        "DU123",
    )
    assert (o.openClose, o.orderRef, o.outsideRth, o.parentId, o.whatIf) == (
        "O",
        "oms:abc-1",
        True,
        5,
        False,
    )
    assert (o.trailStopPrice, o.cashQty, o.exemptCode, o.minQty) == (
        180.5,
        0.000001,
        -1,
        UNSET_INTEGER,
    )
    assert (st.status, st.commission, st.initMarginChange) == (
        "Submitted",
        UNSET_DOUBLE,
        "1.7976931348623157E308",
    )
    assert o.conditions == []
    assert o.algoParams == []


def _check_what_if(call: Call, version: int) -> None:
    _, _, o, st = call.args
    assert o.whatIf is True
    assert o.orderType == "MKT"
    assert o.lmtPrice == UNSET_DOUBLE
    assert float(st.initMarginChange) == 25000.25
    assert (st.initMarginBefore, st.equityWithLoanChange, st.maintMarginAfter) == (
        "1000.5",
        "-3.1",
        "20900",
    )
    assert (st.commission, st.minCommission, st.maxCommission) == (2.25, 2.0, 2.5)
    assert (st.commissionCurrency, st.warningText) == ("USD", "check margin")


def _check_completed(call: Call, version: int) -> None:
    assert call.name == "completedOrder"
    c, o, st = call.args
    _contract11(c, ES)
    assert (o.orderId, o.permId, o.action, o.totalQuantity, o.orderType) == (
        0,
        1_900_000_001,
        "BUY",
        100.0,
        "LMT",
    )
    assert (o.lmtPrice, o.orderRef, o.filledQuantity, o.parentPermId) == (
        187.25,
        "oms:abc-1",
        40.0,
        77,
    )
    assert (st.status, st.completedTime, st.completedStatus) == (
        "Cancelled",
        "20250102 16:00:00 America/New_York",
        "Cancelled by Trader",
    )


def _check_exec(call: Call, version: int) -> None:
    assert call.name == "execDetails"
    req_id, c, ex = call.args
    assert req_id == -1
    _contract11(c, AAPL)
    assert (ex.execId, ex.acctNumber, ex.exchange, ex.side) == (
        "0000e0d5.6512a9f3.01.01",
        "DU123",
        "ISLAND",
        "BOT",
    )
    assert (ex.shares, ex.price, ex.cumQty, ex.avgPrice) == (30.0, 100.1, 30.0, 100.1)
    assert (ex.orderId, ex.permId, ex.clientId, ex.orderRef, ex.lastLiquidity) == (
        7,
        1_900_000_001,
        3,
        "oms:abc-1",
        2,
    )
    assert ex.time == FILL_TIME
    assert ex.time.tzinfo is not None
    if hasattr(ex, "pendingPriceRevision"):
        assert ex.pendingPriceRevision is (version >= 178)


def _check_commission(call: Call, version: int) -> None:
    assert call.name == "commissionReport"
    (r,) = call.args
    assert (r.execId, r.commission, r.currency) == ("0000e0d5.6512a9f3.01.01", 1.0125, "USD")
    assert (r.realizedPNL, r.yield_, r.yieldRedemptionDate) == (-12.5, UNSET_DOUBLE, 0)


def _check_position(call: Call, version: int) -> None:
    assert call.name == "position"
    account, c, pos, cost = call.args
    _contract11(c, ES)
    assert (account, pos, cost) == ("DU123", -3.0, 295012.5)


def _check_portfolio(call: Call, version: int) -> None:
    assert call.name == "updatePortfolio"
    c, *values = call.args
    assert (c.conId, c.symbol, c.primaryExchange, c.exchange) == (265598, "AAPL", "NASDAQ", "")
    assert values == [100.0, 190.5, 19050.0, 187.25, 325.0, 0.0, "DU123"]


DETAILS = ContractDetails(
    contract=AAPL,
    market_name="NMS",
    min_tick=Decimal("0.01"),
    order_types="LMT,MKT",
    valid_exchanges="SMART,ISLAND",
    long_name="APPLE INC",
    time_zone_id="US/Eastern",
    trading_hours="20250102:0400-20250102:2000",
    sec_ids=(("ISIN", "US0378331005"),),
    stock_type="COMMON",
    min_size=Decimal("0.0001"),
    size_increment=Decimal("0.0001"),
    suggested_size_increment=Decimal(100),
)


def _check_details(call: Call, version: int) -> None:
    assert call.name == "contractDetails"
    req_id, cd = call.args
    c = cd.contract
    assert req_id == 42
    assert (c.conId, c.symbol, c.secType, c.exchange, c.primaryExchange, c.currency) == (
        265598,
        "AAPL",
        "STK",
        "SMART",
        "NASDAQ",
        "USD",
    )
    assert (c.localSymbol, c.tradingClass, cd.minTick, cd.longName, cd.timeZoneId) == (
        "AAPL",
        "NMS",
        0.01,
        "APPLE INC",
        "US/Eastern",
    )
    assert [(t.tag, t.value) for t in cd.secIdList] == [("ISIN", "US0378331005")]
    assert cd.stockType == "COMMON"
    if version >= 164:
        assert (cd.minSize, cd.sizeIncrement, cd.suggestedSizeIncrement) == (0.0001, 0.0001, 100)
    elif version == 163:
        assert cd.suggestedSizeIncrement == 100


def _completed(version: int) -> Fields:
    order = Order(
        perm_id=1_900_000_001,
        action="BUY",
        total_quantity=Decimal(100),
        order_type="LMT",
        lmt_price=Decimal("187.25"),
        order_ref="oms:abc-1",
        filled_quantity=Decimal(40),
        parent_perm_id=77,
    )
    state = OrderState(
        status="Cancelled",
        completed_time="20250102 16:00:00 America/New_York",
        completed_status="Cancelled by Trader",
    )
    return orders.encode_completed_order(
        server_version=version, contract=ES, order=order, state=state
    )


SAMPLES: list[Sample] = [
    Sample(
        "nextValidId", lambda v: session.encode_next_valid_id(1001), _expect("nextValidId", 1001)
    ),
    Sample(
        "managedAccounts",
        lambda v: session.encode_managed_accounts(["DU1", "DU2"]),
        _expect("managedAccounts", "DU1,DU2"),
    ),
    Sample(
        "currentTime",
        lambda v: session.encode_current_time(1_735_830_000),
        _expect("currentTime", 1_735_830_000),
    ),
    Sample("error", _build_error, _check_error),
    Sample(
        "orderStatus",
        lambda v: orders.encode_order_status(
            order_id=7,
            status="Submitted",
            filled=Decimal(30),
            remaining=Decimal(70),
            avg_fill_price=Decimal("100.1"),
            perm_id=1_900_000_001,
            parent_id=5,
            last_fill_price=Decimal("100.10"),
            client_id=3,
            why_held="locate",
            mkt_cap_price=Decimal("0.5"),
        ),
        _expect(
            "orderStatus",
            7,
            "Submitted",
            30.0,
            70.0,
            100.1,
            1_900_000_001,
            5,
            100.1,
            3,
            "locate",
            0.5,
        ),
    ),
    Sample(
        "openOrder",
        lambda v: orders.encode_open_order(
            server_version=v, contract=AAPL, order=LIMIT, state=OrderState(status="Submitted")
        ),
        _check_open_order,
    ),
    Sample(
        "openOrder-whatIf",
        lambda v: orders.encode_open_order(
            server_version=v, contract=AAPL, order=WHAT_IF, state=WHAT_IF_STATE
        ),
        _check_what_if,
    ),
    Sample("openOrderEnd", lambda v: orders.encode_open_order_end(), _expect("openOrderEnd")),
    Sample("completedOrder", _completed, _check_completed),
    Sample(
        "completedOrdersEnd",
        lambda v: orders.encode_completed_orders_end(),
        _expect("completedOrdersEnd"),
    ),
    Sample(
        "execDetails",
        lambda v: exe.encode_exec_details(server_version=v, contract=AAPL, execution=EXECUTION),
        _check_exec,
    ),
    Sample(
        "execDetailsEnd", lambda v: exe.encode_exec_details_end(9), _expect("execDetailsEnd", 9)
    ),
    Sample(
        "commissionReport",
        lambda v: exe.encode_commission_report(
            CommissionReport(
                exec_id="0000e0d5.6512a9f3.01.01",
                commission=Decimal("1.0125"),
                currency="USD",
                realized_pnl=Decimal("-12.5"),
            )
        ),
        _check_commission,
    ),
    Sample(
        "position",
        lambda v: acct.encode_position(
            account="DU123", contract=ES, position=Decimal(-3), avg_cost=Decimal("295012.50")
        ),
        _check_position,
    ),
    Sample("positionEnd", lambda v: acct.encode_position_end(), _expect("positionEnd")),
    Sample(
        "accountValue",
        lambda v: acct.encode_account_value(
            key="NetLiquidation", value=Decimal("100000.25"), currency="USD", account="DU123"
        ),
        _expect("updateAccountValue", "NetLiquidation", "100000.25", "USD", "DU123"),
    ),
    Sample(
        "portfolioValue",
        lambda v: acct.encode_portfolio_value(
            contract=AAPL,
            position=Decimal(100),
            market_price=Decimal("190.5"),
            market_value=Decimal(19050),
            average_cost=Decimal("187.25"),
            unrealized_pnl=Decimal(325),
            realized_pnl=Decimal(0),
            account="DU123",
        ),
        _check_portfolio,
    ),
    Sample(
        "accountUpdateTime",
        lambda v: acct.encode_account_update_time("15:59"),
        _expect("updateAccountTime", "15:59"),
    ),
    Sample(
        "accountDownloadEnd",
        lambda v: acct.encode_account_download_end("DU123"),
        _expect("accountDownloadEnd", "DU123"),
    ),
    Sample(
        "accountUpdateMulti",
        lambda v: acct.encode_account_update_multi(
            req_id=11, account="DU123", key="BuyingPower", value="400000", currency="USD"
        ),
        _expect("accountUpdateMulti", 11, "DU123", "", "BuyingPower", "400000", "USD"),
    ),
    Sample(
        "accountUpdateMultiEnd",
        lambda v: acct.encode_account_update_multi_end(11),
        _expect("accountUpdateMultiEnd", 11),
    ),
    Sample(
        "accountSummary",
        lambda v: acct.encode_account_summary(
            req_id=12, account="DU123", tag="TotalCashValue", value=Decimal("5E+3"), currency="USD"
        ),
        _expect("accountSummary", 12, "DU123", "TotalCashValue", "5000", "USD"),
    ),
    Sample(
        "accountSummaryEnd",
        lambda v: acct.encode_account_summary_end(12),
        _expect("accountSummaryEnd", 12),
    ),
    Sample(
        "contractDetails",
        lambda v: con.encode_contract_details(server_version=v, req_id=42, details=DETAILS),
        _check_details,
    ),
    Sample(
        "contractDetailsEnd",
        lambda v: con.encode_contract_details_end(42),
        _expect("contractDetailsEnd", 42),
    ),
]
