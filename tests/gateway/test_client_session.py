"""Encoded bytes fed to a real `IB()` client's receive path (its own framing, handshake
detection and Wrapper): connect completes, and an order's life shows up in its trades."""

from __future__ import annotations

import asyncio
import importlib
from datetime import datetime, timezone
from typing import Any

import pytest
from ibguard.kit.gateway.framing import Frame, FrameReader, encode
from ibguard.kit.gateway.handshake import server_hello
from ibguard.kit.gateway.inbound import StartApi, decode_request
from ibguard.kit.gateway.registry import encode_message
from ibguard.kit.sim import messages as m

from .samples import AAPL, EXECUTION, LIMIT, WHAT_IF, WHAT_IF_STATE

pytest.importorskip("ib_async")
pytest.importorskip("ib_insync")

CLIENTS = [("ib_async", 178), ("ib_async", 157), ("ib_insync", 176), ("ib_insync", 157)]


def connected_ib(client: str, version: int, *, byte_at_a_time: bool = False) -> tuple[Any, list]:
    ib = importlib.import_module(client).IB()
    sent: list[bytes] = []
    ib.client.conn.sendMsg = sent.append
    ib.client.connState = ib.client.CONNECTING
    ib.client.clientId = 3
    started: list[bool] = []
    ib.client.apiStart += lambda: started.append(True)
    stream = b"".join(
        encode(f)
        for f in (
            server_hello(version, datetime(2025, 1, 2, 9, 30, tzinfo=timezone.utc)),
            encode_message(m.NextValidId(orderId=100), version),
            encode_message(m.ManagedAccounts(accountsList="DU123"), version),
        )
    )
    chunks = [stream[i : i + 1] for i in range(len(stream))] if byte_at_a_time else [stream]
    for chunk in chunks:
        ib.client._onSocketHasData(chunk)
    assert started == [True]
    assert ib.client.serverVersion() == version
    return ib, sent


def feed(ib: Any, version: int, *messages: m.TwsMessage) -> None:
    frames = (encode(encode_message(message, version)) for message in messages)
    ib.client._onSocketHasData(b"".join(frames))


@pytest.mark.parametrize(("client", "version"), CLIENTS)
@pytest.mark.parametrize("byte_at_a_time", [False, True], ids=["whole", "bytewise"])
def test_handshake_ids_and_accounts_complete_the_api_start(
    client: str, version: int, byte_at_a_time: bool
) -> None:
    ib, sent = connected_ib(client, version, byte_at_a_time=byte_at_a_time)
    assert ib.client.getAccounts() == ["DU123"]
    assert ib.client.getReqId() == 100
    reader = FrameReader(expect_hello=False)
    reader.feed(b"".join(sent))
    frame = reader.next_message()
    assert isinstance(frame, Frame)
    assert decode_request(frame.fields, version) == StartApi(client_id=3, optional_capabilities="")


@pytest.mark.parametrize(("client", "version"), CLIENTS)
def test_open_order_fill_and_commission_build_one_trade(client: str, version: int) -> None:
    ib, _ = connected_ib(client, version)
    commissions: list[Any] = []
    ib.commissionReportEvent += lambda trade, fill, report: commissions.append(report)
    state = m.OrderState(status="Submitted")
    feed(
        ib,
        version,
        m.OpenOrder(orderId=7, contract=AAPL, order=LIMIT, orderState=state),
        m.OrderStatus(
            orderId=7,
            status="Submitted",
            filled=EXECUTION.shares,
            remaining=LIMIT.totalQuantity - EXECUTION.shares,
            avgFillPrice=EXECUTION.avgPrice,
            permId=LIMIT.permId,
            parentId=0,
            lastFillPrice=EXECUTION.price,
            clientId=3,
        ),
        m.ExecDetails(reqId=-1, contract=AAPL, execution=EXECUTION),
        m.CommissionReport(execId=EXECUTION.execId, commission=EXECUTION.price / 100),
    )
    (trade,) = ib.trades()
    assert (trade.order.permId, trade.order.orderRef, trade.order.lmtPrice) == (
        1_900_000_001,
        "oms:abc-1",
        187.25,
    )
    assert (trade.orderStatus.status, trade.orderStatus.filled) == ("Submitted", 30.0)
    (fill,) = trade.fills
    assert (fill.execution.execId, fill.execution.shares) == (EXECUTION.execId, 30.0)
    assert fill.commissionReport.commission == pytest.approx(1.001)
    assert len(commissions) == 1


@pytest.mark.parametrize(("client", "version"), CLIENTS)
def test_what_if_open_order_answers_the_pending_what_if_request(client: str, version: int) -> None:
    async def scenario() -> Any:
        ib, _ = connected_ib(client, version)
        future = ib.wrapper.startReq(WHAT_IF.orderId)
        feed(
            ib,
            version,
            m.OpenOrder(orderId=8, contract=AAPL, order=WHAT_IF, orderState=WHAT_IF_STATE),
        )
        assert future.done()
        return future.result()

    state = asyncio.run(scenario())
    assert (state.initMarginChange, state.maintMarginAfter, state.commission) == (
        "25000.25",
        "20900",
        2.25,
    )


@pytest.mark.parametrize(("client", "version"), CLIENTS)
def test_connect_end_messages_finish_their_requests(client: str, version: int) -> None:
    async def scenario() -> list[Any]:
        ib, _ = connected_ib(client, version)
        keys = ["positions", "openOrders", "completedOrders", 9]
        futures = [ib.wrapper.startReq(k) for k in keys]
        feed(
            ib,
            version,
            m.PositionEnd(),
            m.OpenOrderEnd(),
            m.CompletedOrdersEnd(),
            m.ExecDetailsEnd(reqId=9),
        )
        return [f.done() for f in futures]

    assert asyncio.run(scenario()) == [True, True, True, True]
