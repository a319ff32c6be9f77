"""One sample per outbound message: the message, built through the gateway's own encoder
table at a server version, and what the client's wrapper must receive. Used by the round-trip
tests and by the tests that prove they have teeth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ibguard.kit.gateway.registry import encode_message
from ibguard.kit.gateway.wire_values import Fields
from ibguard.kit.sim import messages as m
from ibguard.kit.sim.messages import Contract, Execution, Order, OrderState

from .client_decoders import Call
from .samples_market import market_samples
from .samples_pnl_ticks import PNL_TICK_CHECKS, PNL_TICK_MESSAGES

UNSET_DOUBLE = 1.7976931348623157e308
UNSET_INTEGER = 2**31 - 1


@dataclass(frozen=True)
class Sample:
    name: str
    build: Callable[[int], Fields]
    check: Callable[[Call, int], None]
    message_type: type[m.TwsMessage]

    def __repr__(self) -> str:
        return self.name


AAPL = Contract(
    conId=265598,
    symbol="AAPL",
    secType="STK",
    exchange="SMART",
    primaryExchange="NASDAQ",
    currency="USD",
    localSymbol="AAPL",
    tradingClass="NMS",
)
ES = Contract(
    conId=495512563,
    symbol="ES",
    secType="FUT",
    lastTradeDateOrContractMonth="20250321",
    multiplier="50",
    exchange="CME",
    currency="USD",
    localSymbol="ESH5",
    tradingClass="ES",
)
LIMIT = Order(
    orderId=7,
    clientId=3,
    permId=1_900_000_001,
    action="BUY",
    totalQuantity=Decimal("100"),
    orderType="LMT",
    lmtPrice=Decimal("187.25"),
    tif="DAY",
    account="DU123",
    openClose="O",
    orderRef="oms:abc-1",
    outsideRth=True,
    parentId=5,
    trailStopPrice=Decimal("180.5"),
    cashQty=Decimal("0.000001"),
)
WHAT_IF = Order(
    orderId=8,
    clientId=3,
    action="SELL",
    totalQuantity=Decimal("2"),
    orderType="MKT",
    account="DU123",
    whatIf=True,
)
WHAT_IF_STATE = OrderState(
    status="PreSubmitted",
    initMarginBefore=Decimal("1000.5"),
    maintMarginBefore=Decimal("900"),
    equityWithLoanBefore=Decimal("100000"),
    initMarginChange=Decimal("25000.25"),
    maintMarginChange=Decimal("20000"),
    equityWithLoanChange=Decimal("-3.1"),
    initMarginAfter=Decimal("26000.75"),
    maintMarginAfter=Decimal("20900"),
    equityWithLoanAfter=Decimal("99996.9"),
    commission=Decimal("2.25"),
    minCommission=Decimal("2"),
    maxCommission=Decimal("2.5"),
    commissionCurrency="USD",
    warningText="check margin",
)
FILL_TIME = datetime(2025, 1, 2, 15, 30, 45, tzinfo=ZoneInfo("America/New_York"))
EXECUTION = Execution(
    execId="0000e0d5.6512a9f3.01.01",
    time=FILL_TIME,
    acctNumber="DU123",
    exchange="ISLAND",
    side="BOT",
    shares=Decimal("30"),
    price=Decimal("100.10"),
    cumQty=Decimal("30"),
    avgPrice=Decimal("100.1"),
    orderId=7,
    permId=1_900_000_001,
    clientId=3,
    orderRef="oms:abc-1",
    lastLiquidity=2,
    pendingPriceRevision=True,
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
        expected.conId,
        expected.symbol,
        expected.secType,
        expected.lastTradeDateOrContractMonth,
        float(expected.strike),
        expected.multiplier,
        expected.exchange,
        expected.currency,
        expected.localSymbol,
        expected.tradingClass,
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
    # Below 166 the field does not exist on the wire: the encoder drops it.
    error = m.Error(
        reqId=7,
        errorCode=201,
        errorString="Order rejected",
        advancedOrderRejectJson='{"rejectReason":"x"}',
    )
    return encode_message(error, version)


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


DETAILS = m.ContractDetails(
    reqId=42,
    contract=AAPL,
    marketName="NMS",
    minTick=Decimal("0.01"),
    orderTypes="LMT,MKT",
    validExchanges="SMART,ISLAND",
    longName="APPLE INC",
    timeZoneId="US/Eastern",
    tradingHours="20250102:0400-20250102:2000",
    secIdList=(("ISIN", "US0378331005"),),
    stockType="COMMON",
    minSize=Decimal("0.0001"),
    sizeIncrement=Decimal("0.0001"),
    suggestedSizeIncrement=Decimal(100),
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
        permId=1_900_000_001,
        action="BUY",
        totalQuantity=Decimal(100),
        orderType="LMT",
        lmtPrice=Decimal("187.25"),
        orderRef="oms:abc-1",
        filledQuantity=Decimal(40),
        parentPermId=77,
    )
    state = OrderState(
        status="Cancelled",
        completedTime=datetime(2025, 1, 2, 16, 0, tzinfo=ZoneInfo("America/New_York")),
        completedStatus="Cancelled by Trader",
    )
    return encode_message(m.CompletedOrder(contract=ES, order=order, orderState=state), version)


def _sample(name: str, message: m.TwsMessage, check: Callable[[Call, int], None]) -> Sample:
    return Sample(name, lambda v: encode_message(message, v), check, type(message))


SAMPLES: list[Sample] = [
    _sample("nextValidId", m.NextValidId(orderId=1001), _expect("nextValidId", 1001)),
    _sample(
        "managedAccounts",
        m.ManagedAccounts(accountsList="DU1,DU2"),
        _expect("managedAccounts", "DU1,DU2"),
    ),
    _sample(
        "currentTime",
        m.CurrentTime(time=datetime.fromtimestamp(1_735_830_000, tz=ZoneInfo("UTC"))),
        _expect("currentTime", 1_735_830_000),
    ),
    Sample("error", _build_error, _check_error, m.Error),
    _sample(
        "orderStatus",
        m.OrderStatus(
            orderId=7,
            status="Submitted",
            filled=Decimal(30),
            remaining=Decimal(70),
            avgFillPrice=Decimal("100.1"),
            permId=1_900_000_001,
            parentId=5,
            lastFillPrice=Decimal("100.10"),
            clientId=3,
            whyHeld="locate",
            mktCapPrice=Decimal("0.5"),
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
    _sample(
        "openOrder",
        m.OpenOrder(
            orderId=7, contract=AAPL, order=LIMIT, orderState=OrderState(status="Submitted")
        ),
        _check_open_order,
    ),
    _sample(
        "openOrder-whatIf",
        m.OpenOrder(orderId=8, contract=AAPL, order=WHAT_IF, orderState=WHAT_IF_STATE),
        _check_what_if,
    ),
    _sample("openOrderEnd", m.OpenOrderEnd(), _expect("openOrderEnd")),
    Sample("completedOrder", _completed, _check_completed, m.CompletedOrder),
    _sample("completedOrdersEnd", m.CompletedOrdersEnd(), _expect("completedOrdersEnd")),
    _sample(
        "execDetails",
        m.ExecDetails(reqId=-1, contract=AAPL, execution=EXECUTION),
        _check_exec,
    ),
    _sample("execDetailsEnd", m.ExecDetailsEnd(reqId=9), _expect("execDetailsEnd", 9)),
    _sample(
        "commissionReport",
        m.CommissionReport(
            execId="0000e0d5.6512a9f3.01.01",
            commission=Decimal("1.0125"),
            currency="USD",
            realizedPNL=Decimal("-12.5"),
        ),
        _check_commission,
    ),
    _sample(
        "position",
        m.Position(
            account="DU123", contract=ES, position=Decimal(-3), avgCost=Decimal("295012.50")
        ),
        _check_position,
    ),
    _sample("positionEnd", m.PositionEnd(), _expect("positionEnd")),
    _sample(
        "accountValue",
        m.AccountValue(
            key="NetLiquidation", value=Decimal("100000.25"), currency="USD", accountName="DU123"
        ),
        _expect("updateAccountValue", "NetLiquidation", "100000.25", "USD", "DU123"),
    ),
    _sample(
        "portfolioValue",
        m.PortfolioValue(
            contract=AAPL,
            position=Decimal(100),
            marketPrice=Decimal("190.5"),
            marketValue=Decimal(19050),
            averageCost=Decimal("187.25"),
            unrealizedPNL=Decimal(325),
            realizedPNL=Decimal(0),
            accountName="DU123",
        ),
        _check_portfolio,
    ),
    _sample(
        "accountUpdateTime",
        m.AccountUpdateTime(time=datetime(2025, 1, 2, 15, 59, tzinfo=ZoneInfo("UTC"))),
        _expect("updateAccountTime", "15:59"),
    ),
    _sample(
        "accountDownloadEnd",
        m.AccountDownloadEnd(accountName="DU123"),
        _expect("accountDownloadEnd", "DU123"),
    ),
    _sample(
        "accountUpdateMulti",
        m.AccountUpdateMulti(
            reqId=11,
            account="DU123",
            modelCode="",
            key="BuyingPower",
            value="400000",
            currency="USD",
        ),
        _expect("accountUpdateMulti", 11, "DU123", "", "BuyingPower", "400000", "USD"),
    ),
    _sample(
        "accountUpdateMultiEnd",
        m.AccountUpdateMultiEnd(reqId=11),
        _expect("accountUpdateMultiEnd", 11),
    ),
    _sample(
        "accountSummary",
        m.AccountSummary(
            reqId=12, account="DU123", tag="TotalCashValue", value=Decimal("5E+3"), currency="USD"
        ),
        _expect("accountSummary", 12, "DU123", "TotalCashValue", "5000", "USD"),
    ),
    _sample("accountSummaryEnd", m.AccountSummaryEnd(reqId=12), _expect("accountSummaryEnd", 12)),
    _sample("contractDetails", DETAILS, _check_details),
    _sample(
        "contractDetailsEnd", m.ContractDetailsEnd(reqId=42), _expect("contractDetailsEnd", 42)
    ),
    *market_samples(Sample),
    *(_sample(name, msg, PNL_TICK_CHECKS[name]) for name, msg in PNL_TICK_MESSAGES.items()),
]
