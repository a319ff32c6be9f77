"""Version negotiation end to end with real clients: a client whose range the gateway cannot
serve gets TWS's error (357) instead of a session, and a gateway capped at server version 158
(where Order.duration joins openOrder, IBKR's MIN_SERVER_VER_DURATION) serves every client
that can speak it.

Which client can meet which refusal: ib_insync offers 157..176 and ibapi 9.81 100..157, so a
gateway whose range starts above their maximum answers them 357. ib_async (157..178) and ibapi
10.x (100..225) cover every range the gateway can be given (157..178): they are always served.
503 (a client that needs a newer TWS) needs a client whose minimum is above 178, which none of
the four is; it is proved with a raw socket (test_hostile_peers.py)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from ibguard.kit.gateway.handshake import MAX_SERVER_VERSION, MIN_SERVER_VERSION
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.gateway.thread_host import GatewayThread
from ibguard.kit.sim import BrokerConfig, SimBroker

from tests.support.scenarios import run

from .e2e_support import client_module
from .ibapi10 import Ibapi10
from .ibapi_apps import contract, official_app, order


def test_ib_insync_below_the_gateways_range_gets_357_and_no_session() -> None:
    lib = client_module("ib_insync")
    assert lib.client.Client.MaxClientVersion == 176

    async def scenario() -> list[int]:
        async with Gateway(SimBroker(), min_version=177) as gateway:
            ib = lib.IB()
            codes: list[int] = []
            ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
            with pytest.raises((ConnectionError, TimeoutError, asyncio.TimeoutError)):
                await ib.connectAsync("127.0.0.1", gateway.port, clientId=3, timeout=0.5)
            assert not ib.isConnected()
            assert gateway.connections() == ()
            return codes

    assert run(scenario) == [357]


def test_ibapi981_below_the_gateways_range_gets_no_session() -> None:
    """The gateway answers the handshake, then 357, then closes. 9.81's connect() keeps only
    the first frame of the read that brought the handshake reply (it drops the rest of the
    buffer), so whether the app hears the 357 depends on how the bytes were split; the session
    always ends before nextValidId."""
    pytest.importorskip("ibapi")
    from ibapi import server_versions

    assert server_versions.MAX_CLIENT_VER == 157
    with (
        GatewayThread(SimBroker(), min_version=158) as gateway,
        official_app("ibapi-9.81", gateway.port, 3) as app,
    ):
        app.until(lambda: bool(app.of("connectionClosed")))
        assert not app.of("nextValidId")
        # 504 "Not connected" is the client's own, when its socket closes
        assert set(app.codes(-1)) <= {357, 504}
        assert gateway.call(lambda: len(gateway.gateway.connections())) == 0


def test_ib_async_and_ibapi10_cover_every_range_the_gateway_can_serve(ibapi10: Ibapi10) -> None:
    lib = client_module("ib_async")
    client = lib.client.Client
    for low, high in ((client.MinClientVersion, client.MaxClientVersion),
                      (ibapi10.min_client_version, ibapi10.max_client_version)):  # fmt: skip
        assert low <= MIN_SERVER_VERSION
        assert high >= MAX_SERVER_VERSION


@pytest.mark.parametrize("client", ["ib_async", "ib_insync"])
def test_at_158_the_community_clients_trade_and_read_their_order(client: str) -> None:
    """They read openOrder's duration only from 159 (their bug, docs/tws-protocol-notes.md):
    at 158 it is the last field, left unread; everything else reads as sent."""
    lib = client_module(client)

    async def scenario() -> tuple[int, str, float, float]:
        async with Gateway(SimBroker(), max_version=158) as gateway:
            ib = lib.IB()
            await ib.connectAsync("127.0.0.1", gateway.port, clientId=3, timeout=3)
            trade = ib.placeOrder(lib.Stock("AAPL", "SMART", "USD"), lib.LimitOrder("BUY", 7, 50))
            while trade.orderStatus.status != "Submitted":
                await asyncio.sleep(0.005)
            (seen,) = await ib.reqOpenOrdersAsync()
            version = ib.client.serverVersion()
            ib.disconnect()
            return version, seen.orderStatus.status, seen.order.lmtPrice, seen.order.totalQuantity

    assert run(scenario) == (158, "Submitted", 50.0, 7.0)


def test_at_158_the_official_10x_client_reads_the_order_duration_and_trades(
    ibapi10: Ibapi10,
) -> None:
    """Before the gateway sent duration from 158, 10.x ran one field short here: its reader
    raised and the session ended at the first openOrder."""
    broker = SimBroker(BrokerConfig(farm_status_messages=False))
    with (
        GatewayThread(broker, max_version=158) as gateway,
        official_app("ibapi-10", gateway.port, 3, ibapi10) as app,
    ):
        assert app.server_version == 158
        order_id = app.next_order_id
        app.request("placeOrder", order_id, contract(), order(quantity=7, lmtPrice=50.0))
        app.until(lambda: bool(app.of("orderStatus", order_id)))
        app.request("reqCurrentTime")
        app.until(lambda: bool(app.of("currentTime")))  # the session lives on
        ((_, _, sent, state),) = app.of("openOrder", order_id)
        errors = app.of("error", order_id)
    assert (sent.totalQuantity, sent.lmtPrice, state.status) == (Decimal(7), 50.0, "Submitted")
    assert sent.duration == 2**31 - 1  # IB's "unset", read from its own field
    assert errors == []
