"""The reference engine driven through IBConnector and the real client over the wire:
connect reconciles, an order fills in parts, a dropped socket reconciles again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ibguard.engine.config import EngineConfig
from ibguard.engine.engine import Engine
from ibguard.engine.events import (
    BrokerEvent,
    ConnectionLost,
    ConnectionRestored,
    ExecutionsSnapshot,
    SubmitOrder,
    Tick,
)
from ibguard.engine.model import Instrument, OrderRequest, Side, Status
from ibguard.engine.shell.pump import Pump
from ibguard.kit.sim import FillPlan, SimBroker

from tests.support.scenarios import run, until

from .support import CLIENT_ID, CLIENTS, LOCAL_NOW, rig

D = Decimal


@pytest.mark.parametrize("client", CLIENTS)
def test_engine_trades_and_reconciles_through_the_connector(client: str) -> None:
    broker = SimBroker()
    broker.script.arm(FillPlan(fills=((D(30), D("100.10")), (D(70), D("100.20")))))

    async def scenario() -> None:
        async with rig(client, broker, start=False) as r:
            engine = Engine(EngineConfig(account=broker.accounts[0], client_id=CLIENT_ID))
            pump = Pump(engine, r.connector)
            pump.feed(Tick(now=LOCAL_NOW))
            seen: list[object] = []

            def deliver(event: BrokerEvent) -> None:
                seen.append(event)
                pump.feed(event)

            r.connector.start(deliver)  # what pump.start() does, watched
            await until(lambda: engine.connected)
            pump.feed(
                SubmitOrder(
                    oms_id="a1",
                    request=OrderRequest(
                        instrument=Instrument(symbol="AAPL"),
                        side=Side.BUY,
                        quantity=D(100),
                        limit_price=D(101),
                    ),
                )
            )
            await until(
                lambda: (
                    (o := engine.order("a1")) is not None
                    and o.status is Status.FILLED
                    and len(o.fills) == 2
                )
            )
            order = engine.order("a1")
            assert order is not None
            assert order.avg_fill_price == D("100.17")
            assert order.perm_id is not None
            broker.drop(CLIENT_ID)
            await until(lambda: sum(isinstance(e, ConnectionRestored) for e in seen) == 2)
            await until(lambda: sum(isinstance(e, ExecutionsSnapshot) for e in seen) == 2)
            assert any(isinstance(e, ConnectionLost) for e in seen)
            assert engine.connected
            again = engine.order("a1")
            assert again is not None
            assert (again.status, again.filled) == (Status.FILLED, D(100))
            assert engine.position(Instrument(symbol="AAPL")) == D(100)
            assert not engine.halted

    run(scenario)
