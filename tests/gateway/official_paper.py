"""A paper TWS a quarter of an hour into the session, and an official-client app on it: the
`official_paper` fixture (registered in conftest.py) of the P&L and historical-tick tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ibguard.kit.gateway.thread_host import GatewayThread
from ibguard.kit.sim import BrokerConfig, SimBroker

from .ibapi_apps import OFFICIAL, App, official_app

OfficialPaper = tuple[App, SimBroker, GatewayThread]


def paper() -> SimBroker:
    """Model prices, unknown contracts refused, broker time 09:45 New York (the session has
    traded a quarter of an hour)."""
    broker = SimBroker(BrokerConfig(market_prices=True, create_unknown_contracts=False))
    broker.advance(15 * 60)
    return broker


@pytest.fixture(params=OFFICIAL)
def official_paper(request: pytest.FixtureRequest) -> Iterator[OfficialPaper]:
    """ibapi 9.81 (server version 157) or 10.x (178) connected to a `paper()` gateway."""
    client = request.param
    ibapi10 = request.getfixturevalue("ibapi10") if client == "ibapi-10" else None
    if client == "ibapi-9.81":
        pytest.importorskip("ibapi")
    broker = paper()
    with GatewayThread(broker) as gateway, official_app(client, gateway.port, 34, ibapi10) as app:
        yield app, broker, gateway
