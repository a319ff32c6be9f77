"""The usage example handed to the matrix and gateway authors, kept runnable."""

from __future__ import annotations

from decimal import Decimal

from ibguard.engine import events as ev
from ibguard.engine.commands import PlaceOrder, RequestExecutions
from ibguard.engine.model import Instrument, OrderRequest, Side
from ibguard.kit.sim import FillPlan, LocalClock, SimBroker, SimConnector
from ibguard.kit.sim import messages as ib


def test_matrix_style_duplicate_execution_case() -> None:
    broker = SimBroker()
    broker.script.arm(FillPlan(fills=((Decimal(30), Decimal("100.10")),), duplicate_last=True))
    seen: list[ev.BrokerEvent] = []
    port = SimConnector(broker, client_id=7)
    port.start(seen.append)
    request = OrderRequest(
        instrument=Instrument(symbol="AAPL"),
        side=Side.BUY,
        quantity=Decimal(100),
        limit_price=Decimal("100.20"),
    )
    port.send(
        PlaceOrder(
            oms_id="A1", order_id=1, order_ref="ibg:A1", account="DU1234567", request=request
        )
    )
    execs = [e for e in seen if isinstance(e, ev.ExecutionReport)]
    assert len(execs) == 2
    assert execs[0] == execs[1]
    assert broker.requests.placements_per_ref() == {"ibg:A1": 1}
    port.send(RequestExecutions())
    assert isinstance(seen[-1], ev.ExecutionsSnapshot)
    assert LocalClock(broker.clock).now() == broker.clock.local_now()


def test_gateway_style_session_sees_ib_shaped_messages() -> None:
    broker = SimBroker()
    out: list[ib.Message] = []
    session = broker.connect(3, out.append)  # ManagedAccounts, NextValidId, farm 2104/2106/2158
    session.place_order(
        1,
        ib.Contract(symbol="AAPL"),
        ib.Order(action="SELL", totalQuantity=Decimal(5), orderType="MKT"),
    )
    fill = next(m for m in out if isinstance(m, ib.ExecDetails))
    assert (fill.reqId, fill.execution.side, fill.execution.shares) == (-1, "SLD", Decimal(5))
    broker.drop(3)
    assert isinstance(out[-1], ib.Disconnected)
