"""SimBroker books across days, forgotten orders, TWS connectivity codes and scale."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim import messages as ib
from sim_recording import Recorder, limit, market, stock

D = Decimal


def quiet(**kw: object) -> SimBroker:
    return SimBroker(BrokerConfig(farm_status_messages=False, **kw))  # type: ignore[arg-type]


def test_yesterdays_executions_and_completed_orders_leave_the_reports() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 1))
    s.place_order(2, stock(), limit("BUY", 1, "1", tif="GTC"))
    broker.new_day(datetime(2024, 1, 8, 13, 0, tzinfo=timezone.utc))  # Monday
    rec.clear()
    s.req_executions(1)
    s.req_completed_orders()
    s.req_open_orders()
    assert rec.kinds() == [
        "ExecDetailsEnd",
        "CompletedOrdersEnd",
        "OpenOrder",
        "OrderStatus",
        "OpenOrderEnd",
    ]
    assert rec.of(ib.OpenOrder)[0].order.tif == "GTC"
    assert broker.position("AAPL") == D(1)  # positions carry over


def test_day_orders_expire_at_the_day_boundary() -> None:
    broker = quiet()
    s = broker.connect(7, Recorder())
    s.place_order(1, stock(), limit("BUY", 1, "1"))
    broker.new_day()
    assert broker.live_orders() == ()


def test_forgotten_order_leaves_no_record_anywhere() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(1, stock(), limit("BUY", 10, "50", ref="ibg:W"))
    broker.fill(broker.live_orders()[0].perm_id, D(2), D(50))
    broker.forget_order(broker.orders_by_ref("ibg:W")[0].perm_id)
    rec.clear()
    s.req_all_open_orders()
    s.req_completed_orders()
    s.req_executions(2)
    assert rec.kinds() == ["OpenOrderEnd", "CompletedOrdersEnd", "ExecDetailsEnd"]


def test_tws_connectivity_codes_reach_every_session() -> None:
    broker = quiet()
    a, b = Recorder(), Recorder()
    broker.connect(1, a)
    broker.connect(2, b)
    broker.tws_connectivity(1100)
    broker.tws_connectivity(1101)
    assert a.errors() == b.errors() == [1100, 1101]


def test_presubmitted_can_be_the_working_status() -> None:
    broker = quiet(working_status="PreSubmitted")
    rec = Recorder()
    broker.connect(7, rec).place_order(1, stock(), limit("BUY", 1, "1"))
    assert [m.status for m in rec.of(ib.OrderStatus)] == ["PreSubmitted"]


def test_ten_thousand_orders_place_and_cancel_without_quadratic_cost() -> None:
    broker = quiet(rate_limit_per_second=1_000_000)
    s = broker.connect(7, lambda m: None)
    for i in range(1, 10_001):
        s.place_order(i, stock(), limit("BUY", 1, "1", ref=f"r{i}"))
    for i in range(1, 10_001, 2):
        s.cancel_order(i)
    assert len(broker.live_orders()) == 5_000
    assert broker.requests.placements_per_ref().most_common(1)[0][1] == 1
