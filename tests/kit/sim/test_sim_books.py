"""SimBroker books across days, forgotten orders, TWS connectivity codes and scale."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import NoReturn

import pytest
from ibguard.kit.sim import BrokerConfig, LateFillOnCancel, RejectOrder, SimBroker
from ibguard.kit.sim import messages as ib
from ibguard.kit.sim.book import SimOrder
from sim_recording import Recorder, limit, market, quiet, stock

D = Decimal


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


def _no_scan(broker: SimBroker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the ledger's walk of every order ever booked (held or archived) fail."""

    def walked() -> NoReturn:
        raise AssertionError("walked every order ever booked")

    monkeypatch.setattr(broker.ledger, "all_orders", walked)


def _busy_books() -> tuple[SimBroker, Recorder]:
    """2,000 AAPL orders done (filled or cancelled); two AAPL and one MSFT limit resting."""
    broker = quiet(rate_limit_per_second=1_000_000)
    rec = Recorder()
    s = broker.connect(7, rec)
    for i in range(1, 1_001):
        s.place_order(i, stock(), market("BUY", 1))
    for i in range(1_001, 2_001):
        s.place_order(i, stock(), limit("BUY", 1, "1"))
        s.cancel_order(i)
    s.place_order(3_001, stock(), limit("BUY", 1, "90"))
    s.place_order(3_002, stock("MSFT"), limit("BUY", 1, "90"))
    s.place_order(3_003, stock(), limit("SELL", 1, "110"))
    rec.clear()
    return broker, rec


def test_a_price_move_examines_only_the_live_orders_of_that_symbol(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker, rec = _busy_books()
    examined: list[int] = []
    real_match = broker.desk._match

    def spy(sim: SimOrder) -> None:
        examined.append(sim.order_id)
        real_match(sim)

    monkeypatch.setattr(broker.desk, "_match", spy)
    _no_scan(broker, monkeypatch)
    broker.set_price("AAPL", D(89))
    assert examined == [3_001, 3_003]  # booking order; MSFT and the done orders untouched
    assert [m.execution.orderId for m in rec.of(ib.ExecDetails)] == [3_001]
    assert [o.order_id for o in broker.live_orders()] == [3_002, 3_003]


def test_open_orders_walk_only_the_live_orders(monkeypatch: pytest.MonkeyPatch) -> None:
    broker, rec = _busy_books()
    _no_scan(broker, monkeypatch)
    broker.session(7).req_open_orders()
    assert [m.orderId for m in rec.of(ib.OpenOrder)] == [3_001, 3_002, 3_003]
    assert rec.kinds()[-1] == "OpenOrderEnd"


def test_the_live_index_follows_every_way_an_order_ends() -> None:
    broker = quiet(rate_limit_per_second=1_000_000)
    s = broker.connect(7, Recorder())
    broker.script.arm(RejectOrder(symbol="IBM"))
    broker.script.arm(LateFillOnCancel(shares=D(1), price=D(1)))
    s.place_order(1, stock(), market("BUY", 1))  # filled
    s.place_order(2, stock("IBM"), limit("BUY", 1, "1"))  # rejected: Inactive
    s.place_order(3, stock(), limit("BUY", 5, "1"))
    s.cancel_order(3)  # cancelled, then filled late
    s.place_order(4, stock("MSFT"), limit("BUY", 5, "1"))
    broker.fill(broker.ledger.latest_order(7, 4).perm_id, D(2), D(1))  # type: ignore[union-attr]
    s.place_order(5, stock(), limit("BUY", 1, "1", tif="GTC"))
    s.place_order(6, stock("MSFT"), limit("BUY", 1, "1"))
    s.place_order(7, stock(), limit("BUY", 1, "1", tif="GTC"))
    broker.forget_order(broker.ledger.latest_order(7, 7).perm_id)  # type: ignore[union-attr]
    s.place_order(8, stock(), limit("BUY", 1, "1"))
    broker.cancel_at_broker(broker.ledger.latest_order(7, 8).perm_id)  # type: ignore[union-attr]

    def agrees() -> list[int]:
        live = [o for o in broker.orders() if o.is_live]
        assert broker.ledger.live_orders() == live
        for symbol in ("AAPL", "MSFT", "IBM"):
            expected = [o for o in live if o.contract.symbol == symbol]
            assert broker.ledger.live_orders(symbol) == expected
        return [o.order_id for o in live]

    assert agrees() == [4, 5, 6]
    broker.new_day()  # DAY orders expire, GTC stays
    assert agrees() == [5]


def test_a_new_day_prunes_yesterdays_finished_orders_executions_and_requests() -> None:
    """Memory is bounded by one day's activity: what TWS no longer reports leaves the books."""
    broker = SimBroker(BrokerConfig(farm_status_messages=False, rate_limit_per_second=10**6))
    session = broker.connect(7, lambda message: None)
    contract = ib.Contract(symbol="AAPL")
    for order_id in range(1, 51):
        session.place_order(
            order_id, contract, ib.Order(action="BUY", totalQuantity=D(1), orderType="MKT")
        )
    gtc = broker.inject_order(
        client_id=7, symbol="AAPL", action="BUY", quantity=D(1), lmt_price=D(1), tif="GTC"
    )
    mark = broker.requests.mark()
    assert (len(broker.orders()), len(broker.ledger.executions)) == (51, 50)
    broker.advance(3600)
    broker.new_day()
    assert broker.orders() == (gtc,)  # the live GTC order stays
    assert list(broker.ledger.executions) == []
    assert len(broker.requests) == 0
    assert broker.position("AAPL") == D(50)  # positions are not history
    session.req_current_time()
    assert broker.requests.after_seq(mark)[0].request == "reqCurrentTime"
