"""WrapperTap on the libraries' real decoders: live messages, request snapshots, what-if,
contract details, and malformed messages that are logged and skipped, never raised."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from ibguard.engine.connector.tap import WrapperTap
from ibguard.engine.connector.translate import UNSET_DOUBLE
from ibguard.engine.events import (
    BrokerError,
    CommissionReport,
    CompletedOrdersSnapshot,
    ContractDetails,
    ExecutionReport,
    ExecutionsSnapshot,
    ManagedAccounts,
    NextValidId,
    OpenOrderReport,
    OpenOrdersSnapshot,
    OrderStatusReport,
    PositionReport,
    PositionsSnapshot,
    ServerTime,
    WhatIfResult,
)
from ibguard.engine.logcodes import LogCode
from ibguard.engine.model import Instrument
from ibguard.kit.gateway.registry import encode_message
from ibguard.kit.sim import messages as wire

from .support import CLIENTS, LOCAL_NOW, Feed, FixedClock, feed

D = Decimal
UTC = timezone.utc
AAPL = wire.Contract(conId=8314, symbol="AAPL", secType="STK", exchange="SMART", currency="USD")
WHEN = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def send(f: Feed, message: wire.TwsMessage) -> None:
    f.wire(encode_message(message, f.server_version))


@pytest.fixture(params=CLIENTS)
def f(request: pytest.FixtureRequest) -> Feed:
    return feed(request.param)


def _order(**over: object) -> wire.Order:
    fields: dict[str, object] = dict(
        action="BUY",
        totalQuantity=D(100),
        orderType="LMT",
        orderId=3,
        clientId=7,
        permId=1104000003,
        lmtPrice=D("101.5"),
        tif="DAY",
        account="DU1",
        orderRef="ns:o3",
    )
    fields.update(over)
    return wire.Order(**fields)  # type: ignore[arg-type]


def open_order(f: Feed, state: str = "Submitted", **over: object) -> None:
    order = _order(**over)
    send(
        f,
        wire.OpenOrder(
            orderId=order.orderId,
            contract=AAPL,
            order=order,
            orderState=wire.OrderState(status=state),
        ),
    )


def status(
    f: Feed,
    order_id: int = 3,
    perm_id: int = 1104000003,
    filled: int = 0,
    *,
    state: str = "Submitted",
) -> None:
    send(
        f,
        wire.OrderStatus(
            orderId=order_id,
            status=state,
            filled=D(filled),
            remaining=D(100 - filled),
            avgFillPrice=D("101.25") if filled else D(0),
            permId=perm_id,
            parentId=0,
            lastFillPrice=D(0),
            clientId=7,
        ),
    )


def execution(f: Feed, exec_id: str, req_id: int = -1, shares: str = "10") -> None:
    send(
        f,
        wire.ExecDetails(
            reqId=req_id,
            contract=AAPL,
            execution=wire.Execution(
                execId=exec_id,
                time=WHEN,
                acctNumber="DU1",
                exchange="NYSE",
                side="BOT",
                shares=D(shares),
                price=D("101.25"),
                cumQty=D(shares),
                avgPrice=D("101.25"),
                orderId=3,
                permId=1104000003,
                clientId=7,
                orderRef="ns:o3",
                lastLiquidity=0,
            ),
        ),
    )


def commission(f: Feed, exec_id: str) -> None:
    send(f, wire.CommissionReport(execId=exec_id, commission=D("1.25"), currency="USD"))


def test_session_messages(f: Feed) -> None:
    send(f, wire.NextValidId(orderId=12))
    send(f, wire.ManagedAccounts(accountsList="DU1,DU2"))
    send(f, wire.CurrentTime(time=datetime.fromtimestamp(1704205800, tz=UTC)))
    send(f, wire.Error(reqId=3, errorCode=202, errorString="Order Canceled - reason:"))
    assert f.take() == [
        NextValidId(order_id=12),
        ManagedAccounts(accounts=("DU1", "DU2")),
        ServerTime(broker_time=WHEN, local_time=LOCAL_NOW),
        BrokerError(req_id=3, code=202, message="Order Canceled - reason:"),
    ]


def test_live_order_flow_is_every_broker_message_untouched_by_the_client(f: Feed) -> None:
    open_order(f)
    status(f)
    status(f)  # a repeated identical orderStatus: the clients swallow it, the engine sees it
    execution(f, "e.01.01")
    execution(f, "e.01.01")  # the same execId again: the engine, not the client, dedupes
    commission(f, "e.01.01")
    kinds = [type(e) for e in f.take()]
    assert kinds == [
        OpenOrderReport,
        OrderStatusReport,
        OrderStatusReport,
        ExecutionReport,
        ExecutionReport,
        CommissionReport,
    ]


def test_orphan_execution_and_commission_without_any_open_order_are_delivered(f: Feed) -> None:
    execution(f, "orphan.01.01", shares="5")
    commission(f, "orphan.01.01")
    report, fee = f.take()
    assert isinstance(report, ExecutionReport)
    assert (report.exec_id, report.shares, report.order_ref, report.time) == (
        "orphan.01.01",
        D(5),
        "ns:o3",
        WHEN,
    )
    assert fee == CommissionReport(exec_id="orphan.01.01", commission=D("1.25"), currency="USD")


def test_open_orders_snapshot_carries_the_status_that_follows_each_order(f: Feed) -> None:
    f.tap.answers.expect_open_orders()
    open_order(f)
    open_order(f, orderId=4, permId=1104000004, orderRef="ns:o4")
    status(f, filled=30)
    status(f, order_id=9, perm_id=99)  # not in the answer: delivered live
    send(f, wire.OpenOrderEnd())
    live, snapshot = f.take()
    assert isinstance(live, OrderStatusReport)
    assert live.order_id == 9
    assert isinstance(snapshot, OpenOrdersSnapshot)
    first, second = snapshot.orders
    assert (first.order_id, first.filled, first.remaining) == (3, D(30), D(70))
    assert (second.order_id, second.status, second.filled) == (4, "Submitted", D(0))
    send(f, wire.OpenOrderEnd())  # nobody asked
    assert f.take() == [OpenOrdersSnapshot()]


def test_completed_orders_snapshot(f: Feed) -> None:
    done = wire.OrderState(status="Filled", completedTime=WHEN, completedStatus="Filled")
    completed = encode_message(
        wire.CompletedOrder(
            contract=AAPL,
            order=_order(orderId=0, clientId=0, filledQuantity=D(100)),
            orderState=done,
        ),
        f.server_version,
    )
    f.wire(completed)  # outside a request: nothing
    f.tap.answers.expect_completed_orders()
    f.wire(completed)
    send(f, wire.CompletedOrdersEnd())
    (snapshot,) = f.take()
    assert isinstance(snapshot, CompletedOrdersSnapshot)
    (report,) = snapshot.orders
    assert (report.perm_id, report.status, report.filled, report.time) == (
        1104000003,
        "Filled",
        D(100),
        WHEN,
    )
    send(f, wire.CompletedOrdersEnd())
    assert f.take() == [CompletedOrdersSnapshot()]


def test_a_completed_time_printed_without_a_zone_is_in_the_taps_tws_zone(f: Feed) -> None:
    tap = WrapperTap(f.ib.wrapper, f.events.append, FixedClock(), ZoneInfo("America/New_York"))
    tap.answers.expect_completed_orders()
    state = f.lib.OrderState(status="Filled", completedTime="20260824 15:30:00")
    contract = f.lib.Contract(
        conId=8314, symbol="AAPL", secType="STK", exchange="SMART", currency="USD"
    )
    order = f.lib.Order(
        action="BUY", totalQuantity=100, orderType="MKT", permId=1104000003, tif="DAY"
    )
    tap.completedOrder(contract, order, state)
    tap.completedOrdersEnd()
    (snapshot,) = f.take()
    assert isinstance(snapshot, CompletedOrdersSnapshot)
    assert snapshot.orders[0].time == datetime(2026, 8, 24, 19, 30, tzinfo=UTC)


def test_executions_snapshot_collects_its_commissions_and_lets_live_ones_through(f: Feed) -> None:
    f.tap.answers.expect_executions(1 << 30)
    execution(f, "a.01.01", req_id=1 << 30)
    execution(f, "live.01.01")  # reqId -1 while the request runs: live
    commission(f, "a.01.01")
    commission(f, "live.01.01")
    send(f, wire.ExecDetailsEnd(reqId=1 << 30))
    live, live_fee, snapshot = f.take()
    assert isinstance(live, ExecutionReport)
    assert live.exec_id == "live.01.01"
    assert isinstance(live_fee, CommissionReport)
    assert isinstance(snapshot, ExecutionsSnapshot)
    assert [e.exec_id for e in snapshot.executions] == ["a.01.01"]
    assert [c.exec_id for c in snapshot.commissions] == ["a.01.01"]
    commission(f, "a.01.01")  # a late commission after the end: live
    send(f, wire.ExecDetailsEnd(reqId=5))  # nobody asked
    assert [type(e) for e in f.take()] == [CommissionReport, ExecutionsSnapshot]


def test_positions_snapshot_and_live_positions(f: Feed) -> None:
    position = wire.Position(account="DU1", contract=AAPL, position=D(50), avgCost=D("100.5"))
    line = encode_message(position, f.server_version)
    f.wire(line)
    f.tap.answers.expect_positions()
    f.wire(line)
    send(f, wire.PositionEnd())
    send(f, wire.PositionEnd())
    live, snapshot, empty = f.take()
    assert isinstance(live, PositionReport)
    assert (live.quantity, live.avg_cost) == (D(50), D("100.5"))
    assert snapshot == PositionsSnapshot(positions=(live,))
    assert empty == PositionsSnapshot()


def test_contract_details_name_a_changed_symbol(f: Feed) -> None:
    lib = f.lib
    renamed = lib.ContractDetails(contract=lib.Contract(conId=8314, symbol="IBM2"))
    f.tap.answers.expect_contract_details(1, Instrument(symbol="IBM"))
    f.tap.contractDetails(1, renamed)
    f.tap.contractDetails(1, renamed)  # a second answer: nothing asked any more
    f.tap.answers.expect_contract_details(2, Instrument(symbol="IBM2"))
    f.tap.contractDetails(2, renamed)
    f.tap.answers.expect_contract_details(3, Instrument(symbol="X"))
    f.tap.contractDetailsEnd(3)
    f.tap.answers.expect_contract_details(4, Instrument(symbol="Y"))
    f.tap.error(4, 200, "No security definition has been found for the request")
    symbols = [
        (e.instrument.symbol, e.previous_symbol) for e in f.take() if isinstance(e, ContractDetails)
    ]
    assert symbols == [("IBM2", "IBM"), ("IBM2", None), ("IBM2", None)]
    assert f.tap.answers._details == {}


def _what_if(f: Feed, order_id: int, init: str, equity: str, warning: str = "") -> None:
    lib = f.lib
    state = lib.OrderState(initMarginAfter=init, equityWithLoanAfter=equity, warningText=warning)
    f.tap.openOrder(order_id, lib.Contract(symbol="AAPL"), lib.Order(whatIf=True), state)


def test_what_if_answers_one_result_per_request(f: Feed) -> None:
    f.tap.answers.expect_what_if(77, [10, 11])
    _what_if(f, 10, "250000", "1000000")
    assert f.take() == []
    _what_if(f, 11, "1250000", "1000000", "INSUFFICIENT MARGIN")
    assert f.take() == [
        WhatIfResult(
            request_id=77,
            margin_ok=False,
            detail="INSUFFICIENT MARGIN",
            init_margin_after=D(1250000),
            equity_with_loan=D(1000000),
        ),
    ]
    f.tap.answers.expect_what_if(78, [])
    f.tap.answers.expect_what_if(79, [12])
    _what_if(f, 12, "", "")
    assert f.take() == [
        WhatIfResult(request_id=78, margin_ok=True),
        WhatIfResult(request_id=79, margin_ok=True),
    ]


def test_what_if_error_or_unreadable_answer_is_not_within_margin(
    f: Feed, caplog: pytest.LogCaptureFixture
) -> None:
    f.tap.answers.expect_what_if(80, [20])
    f.tap.error(20, 110, "The price does not conform")
    f.tap.answers.expect_what_if(81, [21])
    _what_if(f, 21, "lots", "1000")
    _what_if(f, 22, "1", "2")  # nobody asked
    error, failed, unreadable = f.take()
    assert error == BrokerError(req_id=20, code=110, message="The price does not conform")
    assert failed == WhatIfResult(
        request_id=80, margin_ok=False, detail="error 110: The price does not conform"
    )
    assert unreadable == WhatIfResult(
        request_id=81, margin_ok=False, detail="unreadable what-if answer"
    )
    codes = [r.code for r in caplog.records]  # type: ignore[attr-defined]
    assert codes == [LogCode.EVENT_REJECTED, LogCode.EVENT_REJECTED]


def test_untranslatable_messages_are_logged_and_skipped(
    f: Feed, caplog: pytest.LogCaptureFixture
) -> None:
    lib = f.lib
    caplog.set_level(logging.ERROR, logger="ibguard.engine.connector")
    open_order(f, orderType="STP")  # through the real decoder
    f.tap.completedOrder(
        lib.Contract(symbol="AAPL"), lib.Order(orderType="TRAIL"), lib.OrderState()
    )
    f.wire(("3", "3", "Submitted", "none", "100", "0", "1", "0", "0", "7", "", "0"))
    f.tap.execDetails(-1, lib.Contract(symbol="AAPL"), lib.Execution(side="SSHORT"))
    f.wire(("59", "1", "x", str(UNSET_DOUBLE), "USD", "", "", ""))  # no commission
    f.tap.position("DU1", lib.Contract(symbol="AAPL"), UNSET_DOUBLE, 0.0)
    f.tap.contractDetails(9, lib.ContractDetails(contract=None))
    f.tap.currentTime(10**20)
    f.tap.answers.expect_open_orders()
    open_order(f)
    f.wire(("3", "3", "Submitted", "n/a", "100", "0", "1104000003", "0", "0", "7", "", "0"))
    f.wire(("3",))  # cut short: nothing to read
    f.wire(("59", "1"))
    assert f.take() == []
    kinds = [r.message_kind for r in caplog.records]  # type: ignore[attr-defined]
    assert kinds == [
        "openOrder",
        "completedOrder",
        "orderStatus",
        "execDetails",
        "commissionReport",
        "position",
        "contractDetails",
        "currentTime",
        "orderStatus",
        "orderStatus",
        "commissionReport",
    ]
    assert {r.code for r in caplog.records} == {LogCode.EVENT_REJECTED}  # type: ignore[attr-defined]


def test_everything_else_falls_through_to_the_library_wrapper(f: Feed) -> None:
    f.wire(("6", "2", "NetLiquidation", "1000", "USD", "DU1"))  # updateAccountValue
    assert [v.value for v in f.tap.accountValues.values()] == ["1000"]  # the library's state
    assert f.take() == []


def test_reset_forgets_every_pending_request(f: Feed) -> None:
    f.tap.answers.expect_open_orders()
    f.tap.answers.expect_positions()
    f.tap.answers.expect_completed_orders()
    f.tap.answers.expect_executions(5)
    f.tap.answers.expect_what_if(1, [5])
    f.tap.answers.expect_contract_details(6, Instrument(symbol="AAPL"))
    f.tap.answers.reset()
    open_order(f)
    assert [type(e) for e in f.take()] == [OpenOrderReport]
