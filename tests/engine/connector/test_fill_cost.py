"""Cost per fill stays flat on an order with thousands of partial fills.

The clients' own orderStatus handler formats the whole Trade (every fill and log entry so
far) in an f-string on each status message, whatever the logger level: quadratic in the
fills of one order. The connector's WrapperTap takes the decoder's raw callbacks instead.
Measured on the real decoder (no sockets): pre-encoded frames, timed decode + translate.
Ratios only, never absolute times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from ibguard.engine.events import CommissionReport, ExecutionReport, OrderStatusReport
from ibguard.kit.gateway.registry import encode_message
from ibguard.kit.sim import messages as wire

from .support import CLIENTS, SERVER_VERSION, Feed, feed, library

D = Decimal
AAPL = wire.Contract(conId=8314, symbol="AAPL", secType="STK", exchange="SMART", currency="USD")
WHEN = datetime(2024, 1, 2, 14, 30, tzinfo=timezone.utc)
PERM_ID = 1104000001


def frames(server_version: int, fills: int) -> list[list[str]]:
    """openOrder, then per fill: execDetails, commissionReport, orderStatus."""
    total = D(fills)
    out = [
        list(
            encode_message(
                wire.OpenOrder(
                    orderId=1,
                    contract=AAPL,
                    order=wire.Order(
                        action="BUY",
                        totalQuantity=total,
                        orderType="LMT",
                        orderId=1,
                        clientId=7,
                        permId=PERM_ID,
                        lmtPrice=D(101),
                        tif="DAY",
                        account="DU1",
                        orderRef="ns:big",
                    ),
                    orderState=wire.OrderState(status="Submitted"),
                ),
                server_version,
            )
        )
    ]
    for k in range(1, fills + 1):
        exec_id = f"0000e0d5.{k:08x}.01.01"
        out.append(
            list(
                encode_message(
                    wire.ExecDetails(
                        reqId=-1,
                        contract=AAPL,
                        execution=wire.Execution(
                            execId=exec_id,
                            time=WHEN,
                            acctNumber="DU1",
                            exchange="NYSE",
                            side="BOT",
                            shares=D(1),
                            price=D("100.5"),
                            cumQty=D(k),
                            avgPrice=D("100.5"),
                            orderId=1,
                            permId=PERM_ID,
                            clientId=7,
                            orderRef="ns:big",
                            lastLiquidity=0,
                        ),
                    ),
                    server_version,
                )
            )
        )
        out.append(
            list(
                encode_message(
                    wire.CommissionReport(execId=exec_id, commission=D("0.01"), currency="USD"),
                    server_version,
                )
            )
        )
        out.append(
            list(
                encode_message(
                    wire.OrderStatus(
                        orderId=1,
                        status="Submitted" if k < fills else "Filled",
                        filled=D(k),
                        remaining=total - k,
                        avgFillPrice=D("100.5"),
                        permId=PERM_ID,
                        parentId=0,
                        lastFillPrice=D(0),
                        clientId=7,
                    ),
                    server_version,
                )
            )
        )
    return out


def seconds_per_fill(client: str, fills: int) -> float:
    """Best of three: decode + translate every frame of one order with `fills` fills."""
    best = float("inf")
    for _ in range(3):
        f = feed(client)
        batch = frames(f.server_version, fills)
        interpret = f.ib.client.decoder.interpret
        started = time.perf_counter()
        for fields in batch:
            interpret(fields)
        best = min(best, time.perf_counter() - started)
        assert len(f.events) == 1 + 3 * fills
    return best / fills


@pytest.mark.parametrize("client", CLIENTS)
def test_per_fill_cost_is_flat_from_200_to_4000_fills_on_one_order(client: str) -> None:
    small = seconds_per_fill(client, 200)
    large = seconds_per_fill(client, 4000)
    # quadratic handling would make the large order ~20x dearer per fill; flat stays ~1x
    assert large / small < 3, (
        f"{client}: {1 / small:,.0f} fills/s at 200 vs {1 / large:,.0f} fills/s at 4,000"
    )


@pytest.mark.parametrize("client", CLIENTS)
def test_the_events_of_a_many_fill_order_are_complete_and_in_order(client: str) -> None:
    f = feed(client)
    for fields in frames(f.server_version, 1000):
        f.wire(fields)
    events = f.take()[1:]
    assert [type(e) for e in events[:3]] == [ExecutionReport, CommissionReport, OrderStatusReport]
    statuses = [e for e in events if isinstance(e, OrderStatusReport)]
    assert [s.filled for s in statuses] == [D(k) for k in range(1, 1001)]
    assert statuses[-1].status == "Filled"
    assert len({e.exec_id for e in events if isinstance(e, ExecutionReport)}) == 1000


def _count_fill_reprs(monkeypatch: pytest.MonkeyPatch, lib: object) -> Callable[[], int]:
    fill_class = lib.Fill  # type: ignore[attr-defined]
    calls = [0]
    original = fill_class.__repr__

    def counting(self: object) -> str:
        calls[0] += 1
        return str(original(self))

    monkeypatch.setattr(fill_class, "__repr__", counting)
    return lambda: calls[0]


@pytest.mark.parametrize("client", CLIENTS)
def test_why_the_library_path_is_quadratic_whatever_the_log_level(
    client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = library(client)
    monkeypatch.setattr(logging.getLogger(f"{client}.wrapper"), "level", logging.CRITICAL)
    reprs = _count_fill_reprs(monkeypatch, lib)
    plain = lib.IB()  # the library's own wrapper, no tap
    plain.client.decoder.serverVersion = SERVER_VERSION[client]
    fills = 100
    for fields in frames(SERVER_VERSION[client], fills):
        plain.client.decoder.interpret(fields)
    (trade,) = plain.wrapper.trades.values()
    assert len(trade.fills) == fills
    # every orderStatus formatted every fill so far: about fills**2 / 2 reprs, logger off
    assert reprs() >= fills * (fills - 1) // 2

    tapped: Feed = feed(client)
    before = reprs()
    for fields in frames(tapped.server_version, fills):
        tapped.wire(fields)
    assert reprs() == before  # the tap formats nothing
