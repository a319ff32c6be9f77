"""Translation on the libraries' own objects: values, times, orders, executions, margins."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from ibguard.engine.connector import translate as tr
from ibguard.engine.events import (
    BrokerError,
    CommissionReport,
    OrderStatusReport,
    WhatIfResult,
)
from ibguard.engine.model import Instrument, OrderRequest, OrderType, Side, TimeInForce
from ibguard.errors import BrokerProtocolError

from .support import CLIENTS, library

D = Decimal
UTC = timezone.utc


@pytest.fixture(params=CLIENTS)
def lib(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return library(request.param)


def test_unset_sentinels_are_the_libraries_own(lib) -> None:  # type: ignore[no-untyped-def]
    assert tr.UNSET_DOUBLE == lib.util.UNSET_DOUBLE
    assert tr.UNSET_INTEGER == lib.util.UNSET_INTEGER


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (tr.UNSET_DOUBLE, None),
        ("1.7976931348623157E308", None),
        (100.1, D("100.1")),
        (0.1 + 0.2, D("0.30000000000000004")),
        (D("99.25"), D("99.25")),
        (7, D(7)),
        ("-0.01", D("-0.01")),
    ],
)
def test_optional_decimal(value: object, expected: Decimal | None) -> None:
    assert tr.optional_decimal(value) == expected


@pytest.mark.parametrize(
    "value", [True, "abc", "NaN", float("nan"), float("inf"), "-Infinity", "1e999999999", 1e300]
)
def test_optional_decimal_refuses_non_numbers_and_numbers_no_order_holds(value: object) -> None:
    with pytest.raises(BrokerProtocolError):
        tr.optional_decimal(value)


def test_decimal_of_refuses_unset() -> None:
    with pytest.raises(BrokerProtocolError, match="shares is missing"):
        tr.decimal_of("shares", tr.UNSET_DOUBLE)
    assert tr.decimal_of("shares", 3.0) == D(3)


def test_utc_reads_naive_as_utc_and_converts_aware() -> None:
    assert tr.utc(datetime(2024, 1, 2, 9, 30)) == datetime(2024, 1, 2, 9, 30, tzinfo=UTC)
    ny = datetime(2024, 1, 2, 9, 30, tzinfo=ZoneInfo("America/New_York"))
    converted = tr.utc(ny)
    assert converted.tzinfo is UTC
    assert converted == datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240102 09:30:00 America/New_York", datetime(2024, 1, 2, 14, 30, tzinfo=UTC)),
        ("20240102 14:30:00 UTC", datetime(2024, 1, 2, 14, 30, tzinfo=UTC)),
        ("20240102-14:30:00", datetime(2024, 1, 2, 14, 30, tzinfo=UTC)),
        ("20240102 14:30:00", datetime(2024, 1, 2, 14, 30, tzinfo=UTC)),
        ("1704205800", datetime(2024, 1, 2, 14, 30, tzinfo=UTC)),
        (
            datetime(2024, 1, 2, 14, 30, tzinfo=timezone(timedelta(hours=1))),
            datetime(2024, 1, 2, 13, 30, tzinfo=UTC),
        ),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_ib_time(text: object, expected: datetime | None) -> None:
    assert tr.parse_ib_time(text) == expected


def test_a_zoneless_time_is_read_in_the_zone_tws_is_logged_in_with() -> None:
    new_york = ZoneInfo("America/New_York")
    summer = datetime(2026, 8, 24, 19, 30, tzinfo=UTC)  # 15:30 EDT
    assert tr.parse_ib_time("20260824 15:30:00", new_york) == summer
    # the dash form is UTC whatever TWS's zone, and a printed zone wins over it
    assert tr.parse_ib_time("20260824-19:30:00", new_york) == summer
    assert tr.parse_ib_time("20260824 19:30:00 UTC", new_york) == summer


@pytest.mark.parametrize("text", ["garbage", "2024010X 14:30:00", "20240102 14:30:00 Mars/Olympus"])
def test_parse_ib_time_refuses_unreadable_times(text: str) -> None:
    with pytest.raises(BrokerProtocolError):
        tr.parse_ib_time(text)


def test_contract_and_order_fields_build_library_objects(lib) -> None:  # type: ignore[no-untyped-def]
    aapl = Instrument(symbol="AAPL", con_id=265598, exchange="SMART")
    contract = lib.Contract(**tr.contract_fields(aapl))
    assert (contract.conId, contract.symbol, contract.secType, contract.currency) == (
        265598,
        "AAPL",
        "STK",
        "USD",
    )
    limit = OrderRequest(
        instrument=aapl,
        side=Side.SELL,
        quantity=D(30),
        limit_price=D("100.10"),
        tif=TimeInForce.GTC,
    )
    order = lib.Order(**tr.order_fields(limit, account="DU1", order_id=42, order_ref="ns:a"))
    assert (order.orderId, order.action, order.orderType, order.tif) == (42, "SELL", "LMT", "GTC")
    assert (order.totalQuantity, order.lmtPrice) == (D(30), D("100.10"))
    assert (order.account, order.orderRef, order.whatIf) == ("DU1", "ns:a", False)
    market = OrderRequest(
        instrument=aapl, side=Side.BUY, quantity=D(5), order_type=OrderType.MARKET
    )
    check = lib.Order(**tr.order_fields(market, account="DU1", what_if=True))
    assert check.orderType == "MKT"
    assert check.whatIf is True
    assert check.lmtPrice == tr.UNSET_DOUBLE  # left to the library's unset


def test_order_fields_keys_are_typed() -> None:
    """The field dicts are TypedDicts, so a typed IB-shaped dataclass takes them as they are."""
    contract = {"conId", "symbol", "secType", "exchange", "currency"}
    assert tr.ContractFields.__required_keys__ == contract
    assert tr.OrderFields.__optional_keys__ == frozenset({"lmtPrice"})
    market = OrderRequest(
        instrument=Instrument(symbol="AAPL"),
        side=Side.SELL,
        quantity=D(2),
        order_type=OrderType.MARKET,
    )
    assert set(tr.order_fields(market, account="DU1")) == tr.OrderFields.__required_keys__


def test_decimals_and_aware_times_keep_their_digits(lib) -> None:  # type: ignore[no-untyped-def]
    """IB-shaped objects that already hold Decimals and aware datetimes (the simulator's)."""
    when = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    execution = lib.Execution(
        execId="e1", time=when, side="BOT", shares=D("10.0"), price=D("100.250"), cumQty=D("10.0")
    )
    report = tr.execution_report(lib.Contract(symbol="AAPL"), execution)
    assert (str(report.shares), str(report.price), report.time) == ("10.0", "100.250", when)
    state = lib.OrderState(status="Filled", completedTime=when)
    order = lib.Order(
        action="BUY", totalQuantity=D(1), orderType="LMT", lmtPrice=D("9.90"), tif="DAY"
    )
    completed = tr.open_order_report(lib.Contract(symbol="AAPL"), order, state)
    assert (str(completed.limit_price), completed.time) == ("9.90", when)


def test_instrument_of_fills_defaults(lib) -> None:  # type: ignore[no-untyped-def]
    bare = lib.Contract(symbol="IBM", secType="", exchange="", currency="")
    assert tr.instrument_of(bare) == Instrument(symbol="IBM")


def _open_order(lib, **over):  # type: ignore[no-untyped-def]
    fields = dict(
        orderId=3,
        clientId=7,
        permId=1104000003,
        action="BUY",
        totalQuantity=100.0,
        orderType="LMT",
        lmtPrice=101.5,
        tif="DAY",
        account="DU1",
        orderRef="ns:o3",
    )
    fields.update(over)
    return lib.Order(**fields)


def test_open_order_report_without_and_with_status(lib) -> None:  # type: ignore[no-untyped-def]
    contract = lib.Contract(
        conId=8314, symbol="AAPL", secType="STK", exchange="SMART", currency="USD"
    )
    state = lib.OrderState(status="Submitted")
    report = tr.open_order_report(contract, _open_order(lib), state)
    assert (report.order_id, report.client_id, report.perm_id) == (3, 7, 1104000003)
    assert (report.side, report.quantity, report.limit_price) == (Side.BUY, D(100), D("101.5"))
    assert (report.status, report.filled, report.remaining, report.time) == (
        "Submitted",
        D(0),
        D(100),
        None,
    )
    raw = tr.RawStatus(3, "Submitted", 30.0, 70.0, 101.25, 1104000003, 7)
    merged = tr.open_order_report(contract, _open_order(lib), state, raw)
    assert (merged.filled, merged.remaining) == (D(30), D(70))


def test_completed_order_report_reads_filled_quantity_and_time(lib) -> None:  # type: ignore[no-untyped-def]
    contract = lib.Contract(symbol="AAPL")
    order = _open_order(lib, orderId=0, clientId=0, orderType="MKT", filledQuantity=40.0)
    state = lib.OrderState(status="Cancelled", completedTime="20240102 14:45:00 UTC")
    report = tr.open_order_report(contract, order, state)
    assert (report.filled, report.remaining, report.limit_price) == (D(40), D(60), None)
    assert report.time == datetime(2024, 1, 2, 14, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("action", "SSHORT", "unknown order side"),
        ("orderType", "STP", "order type 'STP'"),
        ("tif", "OPG", "time in force 'OPG'"),
    ],
)
def test_open_order_report_refuses_what_the_engine_cannot_hold(
    lib,
    field: str,
    value: str,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(BrokerProtocolError, match=message):
        tr.open_order_report(
            lib.Contract(symbol="AAPL"), _open_order(lib, **{field: value}), lib.OrderState()
        )


def test_order_status_report() -> None:
    raw = tr.RawStatus(3, "Filled", 100.0, 0.0, 100.285714, 11, 7)
    report = tr.order_status_report(raw)
    assert (report.status, report.filled, report.remaining, report.avg_fill_price) == (
        "Filled",
        D(100),
        D(0),
        D("100.285714"),
    )
    unset_avg = tr.order_status_report(
        tr.RawStatus(3, "Submitted", 0.0, 5.0, tr.UNSET_DOUBLE, 0, 7)
    )
    assert unset_avg.avg_fill_price == D(0)


def test_execution_report_is_utc_and_maps_manual_orders_unset_order_id(lib) -> None:  # type: ignore[no-untyped-def]
    ex = lib.Execution(
        execId="0000e0d5.6553a1b4.01.01",
        time=datetime(2024, 1, 2, 9, 30, tzinfo=ZoneInfo("America/New_York")),
        acctNumber="DU1",
        side="SLD",
        shares=30.0,
        price=100.1,
        permId=11,
        clientId=0,
        orderId=tr.UNSET_INTEGER,
        cumQty=30.0,
        avgPrice=100.1,
        orderRef="",
    )
    report = tr.execution_report(lib.Contract(symbol="AAPL"), ex)
    assert (report.order_id, report.side, report.shares, report.price) == (
        0,
        Side.SELL,
        D(30),
        D("100.1"),
    )
    assert report.time == datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    assert report.time.tzinfo is UTC


def test_commission_and_position_reports(lib) -> None:  # type: ignore[no-untyped-def]
    opening = tr.commission_report(
        lib.CommissionReport(execId="e1", commission=1.0, currency="", realizedPNL=tr.UNSET_DOUBLE)
    )
    assert (opening.commission, opening.currency, opening.realized_pnl) == (D(1), "USD", None)
    closing = tr.commission_report(
        lib.CommissionReport(execId="e2", commission=1.25, currency="USD", realizedPNL=-12.5)
    )
    assert closing.realized_pnl == D("-12.5")
    position = tr.position_report("DU1", lib.Contract(symbol="AAPL"), -50.0, tr.UNSET_DOUBLE)
    assert (position.quantity, position.avg_cost) == (D(-50), D(0))


def test_broker_error() -> None:
    assert tr.broker_error(5, 202, "") == BrokerError(req_id=5, code=202, message="")


@pytest.mark.parametrize(
    ("init", "equity", "warning", "ok"),
    [
        ("250000", "1000000", "", True),
        ("1250000", "1000000", "", False),
        ("250000", "1000000", "YOUR ORDER IS NOT ACCEPTED", False),
        ("", "", "", True),
        ("1.7976931348623157E308", "", "INSUFFICIENT MARGIN", False),
    ],
)
def test_margin_of(lib, init: str, equity: str, warning: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    state = lib.OrderState(initMarginAfter=init, equityWithLoanAfter=equity, warningText=warning)
    margin = tr.margin_of(state)
    assert margin.ok is ok
    assert margin.init_after == (D(init) if init and "E308" not in init else None)


def test_what_if_result_sums_up_the_answers() -> None:
    within = tr.Margin(ok=True, init_after=D(100), equity_after=D(1000), warning="")
    over = tr.Margin(ok=False, init_after=D(900), equity_after=D(800), warning="INSUFFICIENT")
    unknown = tr.Margin(ok=True, init_after=None, equity_after=None, warning="")
    assert tr.what_if_result(4, [within, over, unknown]) == WhatIfResult(
        request_id=4,
        margin_ok=False,
        detail="INSUFFICIENT",
        init_margin_after=D(900),
        equity_with_loan=D(800),
    )
    assert tr.what_if_result(5, [unknown]) == WhatIfResult(request_id=5, margin_ok=True)


def test_remembered_numbers_keep_their_exact_digits_and_sign() -> None:
    for _ in range(2):  # the second round comes from what the first remembered
        assert str(tr.optional_decimal(100.5)) == "100.5"
        assert str(tr.optional_decimal(0.0)) == "0.0"
        assert str(tr.optional_decimal(-0.0)) == "-0.0"
        assert str(tr.optional_decimal(D("1.0"))) == "1.0"
        assert str(tr.optional_decimal(D("1"))) == "1"
        assert tr.optional_decimal(tr.UNSET_DOUBLE) is None
        assert str(tr.optional_decimal("100.50")) == "100.50"  # the wire's text, exactly
        assert str(tr.optional_decimal("-0")) == "-0"
        assert tr.optional_decimal(str(tr.UNSET_DOUBLE)) is None
        assert tr.optional_decimal("") is None


def test_numbers_beyond_the_remembered_ones_still_translate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tr, "_KEPT", 0)
    assert tr.optional_decimal("12345.678901") == D("12345.678901")
    assert "12345.678901" not in tr._TEXTS
    assert tr.optional_decimal(12345.678901) == D("12345.678901")
    assert 12345.678901 not in tr._FLOATS


def test_a_commission_is_read_from_its_wire_text_exactly() -> None:
    unset = str(tr.UNSET_DOUBLE)
    fields = ["59", "1", "e.01", "1.0000005", "", unset, unset, "0"]
    assert tr.commission_of_fields(fields) == CommissionReport(
        exec_id="e.01", commission=D("1.0000005"), currency="USD", realized_pnl=None
    )
    closing = ["59", "1", "e.02", "", "EUR", "-12.345678901", unset, "0"]
    assert tr.commission_of_fields(closing) == CommissionReport(
        exec_id="e.02", commission=D(0), currency="EUR", realized_pnl=D("-12.345678901")
    )


def test_an_order_status_is_read_from_its_wire_text_exactly() -> None:
    fields = ["3", "3", "Filled", "0.5", "99.5", "101.123456789", "11", "0", "0", "7", "", "0"]
    assert tr.order_status_of_fields(fields) == OrderStatusReport(
        order_id=3,
        client_id=7,
        perm_id=11,
        status="Filled",
        filled=D("0.5"),
        remaining=D("99.5"),
        avg_fill_price=D("101.123456789"),  # more digits than a float carries
    )
    empty = ["3", "", "PreSubmitted", "", "", str(tr.UNSET_DOUBLE), "", "", "", "", "", ""]
    assert tr.order_status_of_fields(empty) == OrderStatusReport(
        order_id=0,
        client_id=0,
        perm_id=0,
        status="PreSubmitted",
        filled=D(0),
        remaining=D(0),
        avg_fill_price=D(0),
    )
    held = ["3", "4", "Inactive", "0", "100", "0", "12", "0", "0", "7", "locate", "0"]
    assert tr.order_status_of_fields(held).why_held == "locate"  # held, not dead (LIFE-13)


def test_one_instrument_per_contract_and_a_changed_contract_is_a_new_one(lib) -> None:  # type: ignore[no-untyped-def]
    contract = lib.Contract(conId=8314, symbol="AAPL", secType="STK", exchange="SMART")
    first = tr.instrument_of(contract)
    assert tr.instrument_of(contract) is first
    contract.symbol = "AAPL2"  # a corporate action renames it (EDGE-02)
    assert tr.instrument_of(contract).symbol == "AAPL2"


def test_contracts_beyond_the_remembered_ones_still_translate(
    lib, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tr, "_INSTRUMENTS_KEPT", 0)
    contract = lib.Contract(conId=1, symbol="NEW", secType="STK", exchange="SMART")
    assert tr.instrument_of(contract).symbol == "NEW"
    assert tr.instrument_of(contract) is not tr.instrument_of(contract)  # not remembered
