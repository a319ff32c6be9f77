"""A broker outage longer than any give-up horizon (issue 11, finding 3): the connector keeps
trying with capped, seeded-jitter backoff, /health says why it is down, and when the
gateway comes back the engine reconnects and reconciles what happened meanwhile.

Real parts: the fake TWS gateway on 127.0.0.1 (stopped, then restarted on the same port),
ib_async under the connector, the engine service with its HTTP /health. Only time is
virtual: each backoff wait moves broker and host time forward instead of sleeping.
"""

from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal

import pytest
from ibguard.engine.config import EngineConfig
from ibguard.engine.connector.ib import IBConnector
from ibguard.engine.connector.reconnect import Backoff
from ibguard.engine.engine import Engine
from ibguard.engine.events import SubmitOrder
from ibguard.engine.model import Instrument, OrderRequest, Side, Status
from ibguard.engine.shell.service import EngineService
from ibguard.kit.gateway.server import Gateway
from ibguard.kit.sim import SimBroker
from ibguard.kit.sim.clock import LocalClock

from tests.support.scenarios import run, until

from .support import CLIENT_ID, CLIENTS, library

D = Decimal
OLD_GIVE_UP_ATTEMPTS = 20  # the old policy stopped here, ~7.5 minutes into an outage
OLD_GIVE_UP_SECONDS = 7.5 * 60
SEED = 11


async def _health(port: int) -> tuple[int, dict[str, object]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.mark.parametrize("client", CLIENTS)
def test_engine_reconnects_and_reconciles_after_an_outage_past_the_old_give_up(
    client: str,
) -> None:
    broker = SimBroker()
    waits: list[float] = []

    async def virtual_sleep(seconds: float) -> None:
        waits.append(seconds)
        broker.advance(seconds)  # the outage lasts in broker time, not on the test's clock
        await asyncio.sleep(0)

    async def scenario() -> None:
        gateway = Gateway(broker)
        await gateway.start()
        port = gateway.port
        backoff = Backoff()  # the production policy
        connector = IBConnector(
            "127.0.0.1",
            port,
            CLIENT_ID,
            clock=LocalClock(broker.clock),
            library=library(client),
            connect_timeout=3,
            backoff=backoff,
            sleep=virtual_sleep,
            jitter_seed=SEED,
        )
        engine = Engine(EngineConfig(account=broker.accounts[0], client_id=CLIENT_ID))

        async def disconnect() -> None:
            connector.stop()

        service = EngineService(
            engine, connector, LocalClock(broker.clock), disconnect=disconnect, tick_seconds=0.001
        )
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        try:
            await until(lambda: engine.connected)
            service.feed(
                SubmitOrder(
                    oms_id="rest-1",
                    request=OrderRequest(
                        instrument=Instrument(symbol="AAPL"),
                        side=Side.BUY,
                        quantity=D(100),
                        limit_price=D(1),  # far below the market: it rests
                    ),
                )
            )
            await until(lambda: len(broker.live_orders()) == 1)
            (resting,) = broker.live_orders()
            await until(lambda: (o := engine.order("rest-1")) is not None and o.perm_id is not None)

            await gateway.stop()  # the broker goes away
            await until(lambda: not engine.connected)
            broker.fill(resting.perm_id, D(100), D(1))  # and fills the order meanwhile
            await until(
                lambda: (
                    len(waits) > OLD_GIVE_UP_ATTEMPTS + 5 and sum(waits) > 2 * OLD_GIVE_UP_SECONDS
                ),
                timeout=60,
            )
            status, body = await _health(service.health_server.port)
            assert status == 503
            assert any(c["name"] == "connected" and not c["ok"] for c in body["checks"])  # type: ignore[union-attr]

            revived = Gateway(broker, port=port)  # the broker is back, same address
            await revived.start()
            try:
                await until(lambda: engine.connected, timeout=30)
                # the fill made during the outage arrives with the reconcile's executions
                await until(lambda: engine.position(Instrument(symbol="AAPL")) == D(100), 30)
                order = engine.order("rest-1")
                assert order is not None
                assert (order.status, order.filled) == (Status.FILLED, D(100))
                status, body = await _health(service.health_server.port)
                assert status == 200, body
            finally:
                stop.set()
                await asyncio.wait_for(task, 10)
                await revived.stop()
        finally:
            stop.set()
            await gateway.stop()

        # capped, jittered, and the same every run for the same seed
        draws = random.Random(SEED)
        first = backoff.delay(1, draws.random())  # drawn when the first session came up
        expected = [first] + [backoff.delay(n + 1, draws.random()) for n in range(1, len(waits))]
        assert waits == pytest.approx(expected)
        assert max(waits) <= backoff.maximum
        assert len(set(waits[-10:])) > 1  # jitter: not in lock-step with other clients

    run(scenario, timeout=120)
