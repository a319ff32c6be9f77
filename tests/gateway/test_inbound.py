"""Requests written by the pinned clients' own `Client` encoders (the bytes they would put on
the socket) decode to the right requests at every server version each client negotiates."""

from __future__ import annotations

import importlib
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from ibguard.kit.gateway.errors import PeerProtocolError, RequestRefused
from ibguard.kit.gateway.framing import Frame, FrameReader
from ibguard.kit.gateway.inbound import (
    CancelAccountSummary,
    CancelAccountUpdatesMulti,
    CancelOrder,
    CancelPositions,
    PlaceOrder,
    ReqAccountSummary,
    ReqAccountUpdates,
    ReqAccountUpdatesMulti,
    ReqAllOpenOrders,
    ReqAutoOpenOrders,
    ReqCompletedOrders,
    ReqContractDetails,
    ReqCurrentTime,
    ReqExecutions,
    ReqGlobalCancel,
    ReqIds,
    ReqManagedAccounts,
    ReqOpenOrders,
    ReqPositions,
    Request,
    StartApi,
    UnknownRequest,
    decode_request,
)
from ibguard.kit.sim.messages import Contract

from .client_decoders import CLIENT_VERSION_PAIRS, pair_id

pytest.importorskip("ib_async")
pytest.importorskip("ib_insync")


class _Wire:
    """Stands in for the client's Connection: keeps the bytes it would write."""

    def __init__(self) -> None:
        self.data = b""

    def sendMsg(self, data: bytes) -> None:
        self.data += data


def capturing_client(client: str, version: int) -> Any:
    base = importlib.import_module(f"{client}.client").Client

    class Capturing(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__(SimpleNamespace())
            self.conn = _Wire()
            self.connState = base.CONNECTED
            self._serverVersion = version
            self.clientId = 3
            self.MaxRequests = 0  # no throttling: every request goes straight to the wire

    return Capturing()


def sent(ib_client: Any, version: int) -> list[Request]:
    reader = FrameReader(expect_hello=False)
    reader.feed(ib_client.conn.data)
    out: list[Request] = []
    while isinstance(frame := reader.next_message(), Frame):
        out.append(decode_request(frame.fields, version))
    assert reader.trailing_data == b""
    return out


def frames(ib_client: Any) -> list[tuple[str, ...]]:
    reader = FrameReader(expect_hello=False)
    reader.feed(ib_client.conn.data)
    out = []
    while isinstance(frame := reader.next_message(), Frame):
        out.append(frame.fields)
    return out


def lib(client: str, module: str) -> Any:
    return importlib.import_module(f"{client}.{module}")


def stock(client: str) -> Any:
    return lib(client, "contract").Stock(
        "AAPL", "SMART", "USD", conId=265598, primaryExchange="NASDAQ"
    )


AAPL = Contract(
    conId=265598,
    symbol="AAPL",
    secType="STK",
    exchange="SMART",
    primaryExchange="NASDAQ",
    currency="USD",
)


def place(client: str, version: int, contract: Any, order: Any, order_id: int = 7) -> PlaceOrder:
    c = capturing_client(client, version)
    c.placeOrder(order_id, contract, order)
    (request,) = sent(c, version)
    assert isinstance(request, PlaceOrder)
    return request


@pytest.mark.parametrize("pair", CLIENT_VERSION_PAIRS, ids=pair_id)
def test_limit_order_fields_are_recovered(pair: tuple[str, int]) -> None:
    client, version = pair
    order = lib(client, "order").LimitOrder(
        "BUY",
        100,
        187.25,
        tif="GTC",
        orderRef="oms:abc-1",
        account="DU123",
        outsideRth=True,
        ocaGroup="g1",
        goodTillDate="20250110 16:00:00 US/Eastern",
    )
    got = place(client, version, stock(client), order)
    assert got.order_id == 7
    assert got.contract == AAPL
    assert (got.order.action, got.order.totalQuantity, got.order.orderType) == (
        "BUY",
        Decimal(100),
        "LMT",
    )
    assert (got.order.lmtPrice, got.order.auxPrice, got.order.tif) == (
        Decimal("187.25"),
        None,
        "GTC",
    )
    assert (got.order.orderRef, got.order.account, got.order.ocaGroup) == (
        "oms:abc-1",
        "DU123",
        "g1",
    )
    assert (got.order.outsideRth, got.order.transmit, got.order.whatIf) == (True, True, False)
    assert got.order.goodTillDate == "20250110 16:00:00 US/Eastern"


@pytest.mark.parametrize("pair", CLIENT_VERSION_PAIRS, ids=pair_id)
def test_what_if_market_order_is_flagged(pair: tuple[str, int]) -> None:
    client, version = pair
    order = lib(client, "order").MarketOrder("SELL", 2.5, whatIf=True, account="DU123")
    got = place(client, version, stock(client), order, order_id=8)
    assert (got.order_id, got.order.action, got.order.totalQuantity) == (8, "SELL", Decimal("2.5"))
    assert (got.order.orderType, got.order.lmtPrice, got.order.whatIf) == ("MKT", None, True)


@pytest.mark.parametrize("pair", CLIENT_VERSION_PAIRS[::3], ids=pair_id)
def test_optional_blocks_are_skipped_in_step(pair: tuple[str, int]) -> None:
    """Algo params, conditions, trailing and delta-neutral blocks do not shift later fields."""
    client, version = pair
    orders, objects = lib(client, "order"), lib(client, "objects")
    tag_value = getattr(objects, "TagValue", None) or lib(client, "contract").TagValue
    order = orders.Order(
        action="BUY",
        totalQuantity=10,
        orderType="TRAIL LIMIT",
        trailStopPrice=99.5,
        trailingPercent=1.5,
        algoStrategy="Adaptive",
        algoParams=[tag_value("adaptivePriority", "Normal")],
        conditions=[orders.PriceCondition(price=101.0, conId=265598, exch="SMART")],
        hedgeType="D",
        hedgeParam="0.5",
        cashQty=1000.0,
        orderRef="oms:algo",
    )
    got = place(client, version, stock(client), order)
    assert (got.order.trailStopPrice, got.order.trailingPercent) == (
        Decimal("99.5"),
        Decimal("1.5"),
    )
    assert got.algo_strategy == "Adaptive"
    assert got.algo_params == (("adaptivePriority", "Normal"),)
    assert len(got.conditions) == 1
    assert got.conditions[0][0] == "1"
    assert (got.order.cashQty, got.order.orderRef) == (Decimal("1000.0"), "oms:algo")


@pytest.mark.parametrize("pair", [("ib_async", 157), ("ib_async", 178), ("ib_insync", 176)])
def test_combo_order_legs_are_skipped_in_step(pair: tuple[str, int]) -> None:
    client, version = pair
    contract_mod = lib(client, "contract")
    bag = contract_mod.Contract(
        secType="BAG",
        symbol="SPY",
        exchange="SMART",
        currency="USD",
        comboLegs=[
            contract_mod.ComboLeg(conId=1, ratio=1, action="BUY", exchange="SMART"),
            contract_mod.ComboLeg(conId=2, ratio=1, action="SELL", exchange="SMART"),
        ],
    )
    order = lib(client, "order").LimitOrder("BUY", 1, 0.5, orderRef="oms:combo")
    got = place(client, version, bag, order)
    assert (got.contract.secType, got.order.lmtPrice, got.order.orderRef) == (
        "BAG",
        Decimal("0.5"),
        "oms:combo",
    )


@pytest.mark.parametrize(("client", "version"), [("ib_async", 170), ("ib_insync", 176)])
def test_peg_mid_tail_from_170_is_read(client: str, version: int) -> None:
    order = lib(client, "order").Order(
        action="BUY", totalQuantity=1, orderType="PEG MID", midOffsetAtWhole=0.01
    )
    assert place(client, version, stock(client), order).order.orderType == "PEG MID"


@pytest.mark.parametrize("pair", CLIENT_VERSION_PAIRS, ids=pair_id)
def test_cancel_order_carries_manual_time_from_169(pair: tuple[str, int]) -> None:
    client, version = pair
    c = capturing_client(client, version)
    c.cancelOrder(7, "20250102 10:00:00")
    expected = "20250102 10:00:00" if version >= 169 else ""
    assert sent(c, version) == [CancelOrder(order_id=7, manual_cancel_order_time=expected)]


@pytest.mark.parametrize("pair", CLIENT_VERSION_PAIRS[::2], ids=pair_id)
def test_connect_and_session_requests_decode(pair: tuple[str, int]) -> None:
    client, version = pair
    c = capturing_client(client, version)
    c.startApi()
    c.reqAutoOpenOrders(True)
    c.reqPositions()
    c.reqOpenOrders()
    c.reqAllOpenOrders()
    c.reqCompletedOrders(False)
    c.reqAccountUpdates(True, "DU123")
    c.reqAccountUpdatesMulti(11, "DU123", "", False)
    c.reqExecutions(12, lib(client, "objects").ExecutionFilter(clientId=3, acctCode="DU123"))
    c.reqIds(1)
    c.reqCurrentTime()
    c.reqAccountSummary(13, "All", "NetLiquidation,BuyingPower")
    c.cancelAccountSummary(13)
    c.cancelAccountUpdatesMulti(11)
    c.cancelPositions()
    c.reqGlobalCancel()
    c.reqManagedAccts()
    assert sent(c, version) == [
        StartApi(client_id=3, optional_capabilities=""),
        ReqAutoOpenOrders(auto_bind=True),
        ReqPositions(),
        ReqOpenOrders(),
        ReqAllOpenOrders(),
        ReqCompletedOrders(api_only=False),
        ReqAccountUpdates(subscribe=True, account="DU123"),
        ReqAccountUpdatesMulti(req_id=11, account="DU123", model_code="", ledger_and_nlv=False),
        ReqExecutions(
            req_id=12,
            client_id=3,
            account="DU123",
            time="",
            symbol="",
            sec_type="",
            exchange="",
            side="",
        ),
        ReqIds(num_ids=1),
        ReqCurrentTime(),
        ReqAccountSummary(req_id=13, group="All", tags="NetLiquidation,BuyingPower"),
        CancelAccountSummary(req_id=13),
        CancelAccountUpdatesMulti(req_id=11),
        CancelPositions(),
        ReqGlobalCancel(),
        ReqManagedAccounts(),
    ]


@pytest.mark.parametrize("pair", CLIENT_VERSION_PAIRS[::2], ids=pair_id)
def test_contract_details_request_decodes(pair: tuple[str, int]) -> None:
    client, version = pair
    c = capturing_client(client, version)
    future = lib(client, "contract").Future(
        "ES", "202503", "CME", includeExpired=True, secIdType="FIGI", secId="BBG0"
    )
    c.reqContractDetails(21, future)
    (request,) = sent(c, version)
    assert isinstance(request, ReqContractDetails)
    assert (request.req_id, request.include_expired, request.issuer_id) == (21, True, "")
    assert (request.contract.symbol, request.contract.secType) == ("ES", "FUT")
    assert (request.contract.lastTradeDateOrContractMonth, request.contract.exchange) == (
        "202503",
        "CME",
    )
    assert (request.contract.secIdType, request.contract.secId) == ("FIGI", "BBG0")


def test_unknown_message_id_is_kept_not_failed() -> None:
    c = capturing_client("ib_async", 178)
    c.reqScannerParameters()  # market scanners are not served
    assert sent(c, 178) == [UnknownRequest(msg_id=24, fields=("1",))]


@pytest.mark.parametrize(
    ("name", "mutate"),
    [
        ("last-field-dropped", lambda f: f[:-1]),
        ("extra-field", lambda f: (*f, "")),
    ],
)
@pytest.mark.parametrize("pair", [("ib_async", 157), ("ib_async", 178), ("ib_insync", 176)])
def test_a_place_order_one_field_off_is_a_peer_error(
    pair: tuple[str, int], name: str, mutate: Any
) -> None:
    client, version = pair
    c = capturing_client(client, version)
    c.placeOrder(7, stock(client), lib(client, "order").LimitOrder("BUY", 1, 1.0))
    (fields,) = frames(c)
    assert isinstance(decode_request(fields, version), PlaceOrder)
    with pytest.raises(PeerProtocolError):
        decode_request(mutate(fields), version)


def test_a_place_order_cut_short_anywhere_is_a_peer_error_naming_the_missing_field() -> None:
    """Every prefix, including those ending inside a block the decoder skips whole."""
    c = capturing_client("ib_async", 178)
    c.placeOrder(7, stock("ib_async"), lib("ib_async", "order").LimitOrder("BUY", 1, 1.0))
    (fields,) = frames(c)
    for end in range(2, len(fields)):
        with pytest.raises(PeerProtocolError, match="message ended before field"):
            decode_request(fields[:end], 178)


# 170 adds fields only for PEG BEST/MID and IBKRATS orders (see the PEG MID test).
@pytest.mark.parametrize("version", [158, 160, 162, 166, 169, 177])
def test_a_place_order_read_at_the_previous_version_is_a_peer_error(version: int) -> None:
    c = capturing_client("ib_async", version)
    c.placeOrder(7, stock("ib_async"), lib("ib_async", "order").LimitOrder("BUY", 1, 1.0))
    (fields,) = frames(c)
    with pytest.raises(PeerProtocolError):
        decode_request(fields, version - 1)


@pytest.mark.parametrize("fields", [(), ("x",), ("71", "2")])
def test_malformed_requests_are_peer_errors(fields: tuple[str, ...]) -> None:
    with pytest.raises(PeerProtocolError):
        decode_request(fields, 178)


@pytest.mark.parametrize("pair", [("ib_async", 157), ("ib_async", 178), ("ib_insync", 176)])
def test_an_unreadable_number_in_a_place_order_is_refused_with_320_for_that_order(
    pair: tuple[str, int],
) -> None:
    client, version = pair
    c = capturing_client(client, version)
    c.placeOrder(7, stock(client), lib(client, "order").LimitOrder("BUY", 1, 1.0))
    (fields,) = frames(c)
    lmt_at = fields.index("1.0")
    for bad in ("seven", "nan", "Infinite", "-Infinity", "1e400"):
        with pytest.raises(RequestRefused) as refused:
            decode_request((*fields[:lmt_at], bad, *fields[lmt_at + 1 :]), version)
        assert (refused.value.req_id, refused.value.code, refused.value.fatal) == (7, 320, False)


def test_an_unreadable_client_id_refuses_the_start_for_good() -> None:
    with pytest.raises(RequestRefused) as refused:
        decode_request(("71", "2", "zero", ""), 178)
    assert (refused.value.code, refused.value.fatal) == (320, True)
