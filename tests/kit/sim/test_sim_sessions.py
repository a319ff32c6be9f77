"""SimBroker sessions: clientIds, pacing, drops, who hears what, delivery order, clock."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from ibguard.engine.errors import UsageError
from ibguard.kit.sim import ApiSession, SimBroker, VirtualClock
from ibguard.kit.sim import messages as ib
from sim_recording import Recorder, limit, market, quiet, stock


def test_duplicate_client_id_is_refused_with_326_and_closed() -> None:
    broker = quiet()
    broker.connect(7, Recorder())
    rec = Recorder()
    session = broker.connect(7, rec)
    assert not session.connected
    assert rec.errors() == [326]
    assert isinstance(rec.messages[-1], ib.Disconnected)
    with pytest.raises(ConnectionError):
        session.req_open_orders()


def test_client_id_is_free_again_after_disconnect() -> None:
    broker = quiet()
    broker.connect(7, Recorder()).disconnect()
    assert broker.connect(7, Recorder()).connected


def test_farm_status_messages_are_informational_errors_at_connect() -> None:
    rec = Recorder()
    SimBroker().connect(1, rec)
    codes = [m.errorCode for m in rec.of(ib.Error)]
    assert codes
    assert all(2100 <= c <= 2199 for c in codes)


def test_requests_beyond_the_rate_limit_get_error_100_and_are_dropped() -> None:
    broker = quiet(rate_limit_per_second=50)
    rec = Recorder()
    s = broker.connect(7, rec)
    for i in range(1, 61):
        s.place_order(i, stock(), limit("BUY", 1, "1"))
    assert len(broker.orders()) == 50
    assert rec.errors() == [100] * 10
    assert len(broker.requests.placed()) == 60
    assert sum(r.accepted for r in broker.requests.placed()) == 50
    broker.advance(1)
    s.place_order(61, stock(), limit("BUY", 1, "1"))
    assert len(broker.orders()) == 51


def test_request_log_measures_the_peak_rate() -> None:
    broker = quiet(rate_limit_per_second=200)
    s = broker.connect(7, Recorder())
    for i in range(1, 121):
        s.place_order(i, stock(), limit("BUY", 1, "1"))
        broker.advance(Decimal("0.005"))
    assert broker.requests.max_rate(client_id=7) == 120
    assert broker.requests.max_rate(window=timedelta(milliseconds=100)) == 20


def test_drop_closes_the_session_without_an_error_message() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(7, rec)
    rec.clear()
    broker.drop(7)
    assert rec.messages == [ib.Disconnected(reason="connection dropped")]
    assert not s.connected


def test_order_messages_go_only_to_the_client_that_placed_it() -> None:
    broker = quiet()
    mine, other = Recorder(), Recorder()
    s = broker.connect(7, mine)
    broker.connect(8, other)
    other.clear()
    s.place_order(1, stock(), market("BUY", 1))
    assert mine.of(ib.ExecDetails)
    assert other.messages == []


def test_master_client_hears_every_order() -> None:
    broker = quiet(master_client_id=9)
    master = Recorder()
    broker.connect(9, master)
    broker.connect(7, Recorder()).place_order(1, stock(), market("BUY", 1))
    assert len(master.of(ib.ExecDetails)) == 1


def test_manual_orders_reach_client_zero_after_auto_open_orders() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(0, rec)
    s.req_auto_open_orders(True)
    order = broker.inject_order(
        client_id=0, symbol="AAPL", action="BUY", quantity=Decimal(5), lmt_price=Decimal(1)
    )
    assert rec.of(ib.OpenOrder)[0].order.permId == order.perm_id
    assert rec.of(ib.OpenOrder)[0].order.clientId == 0


def test_all_open_orders_includes_other_clients_orders() -> None:
    broker = quiet()
    broker.inject_order(
        client_id=0, symbol="AAPL", action="BUY", quantity=Decimal(5), lmt_price=Decimal(1)
    )
    rec = Recorder()
    s = broker.connect(7, rec)
    s.req_open_orders()
    assert rec.of(ib.OpenOrder) == []
    s.req_all_open_orders()
    assert len(rec.of(ib.OpenOrder)) == 1


def test_requests_made_by_a_listener_are_answered_after_it_returns() -> None:
    broker = quiet()
    seen: list[str] = []
    sessions: list[ApiSession] = []

    def listener(message: ib.Message) -> None:
        seen.append(type(message).__name__)
        if isinstance(message, ib.ExecDetails) and message.reqId == -1:
            sessions[0].req_positions()
            seen.append("asked")

    sessions.append(broker.connect(7, listener))
    seen.clear()
    sessions[0].place_order(1, stock(), market("BUY", 1))
    asked = seen.index("asked")
    # the commission was produced before the request, so it still comes first
    assert seen[asked - 1 :] == [
        "ExecDetails",
        "asked",
        "CommissionReport",
        "Position",
        "PositionEnd",
    ]


def test_clock_moves_only_when_told_and_skew_is_broker_minus_local() -> None:
    clock = VirtualClock()
    start = clock.broker_now()
    clock.set_skew(Decimal("47.3"))
    assert clock.broker_now() == start
    assert clock.broker_now() - clock.local_now() == timedelta(seconds=47.3)
    clock.advance(10)
    assert clock.broker_now() - start == timedelta(seconds=10)
    with pytest.raises(UsageError):
        clock.advance(-1)
    with pytest.raises(UsageError):
        clock.set(start)
