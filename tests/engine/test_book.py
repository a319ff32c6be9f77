"""The book's API: its tables are read-only outside it, and the direct paths for common
broker facts end exactly where the general ones do."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from ibguard.engine import ConfigError, EngineConfig, LogCode, Status
from ibguard.engine.book import Book
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.events import OrderStatusReport
from ibguard.engine.fills import FillLedger

from tests.engine.scenario import AAPL, ACCOUNT, T0, Scenario


def test_the_books_tables_cannot_be_written_from_outside() -> None:
    import logging

    book = Book(EngineConfig(account=ACCOUNT), DecisionLog(logging.getLogger("t"), None))
    for table in (book.orders, book.positions, book.foreign_positions, book.instruments):
        with pytest.raises(TypeError):
            table["x"] = None  # type: ignore[index]


def test_status_with_an_orderid_for_a_recovered_order_binds_the_alias(sc: Scenario) -> None:
    # a completedOrder carries no orderId: the recovered order learns it from orderStatus
    sc.feed(sc.open_order("r", "Submitted", order_id=0, perm_id=4242))
    assert sc.order("r").broker_order_id is None
    sc.feed(
        OrderStatusReport(
            order_id=321,
            client_id=sc.config.client_id,
            perm_id=4242,
            status="Submitted",
            filled=Decimal(0),
            remaining=Decimal(100),
            avg_fill_price=Decimal(0),
        )
    )
    assert sc.order("r").broker_order_id == 321


def test_a_fill_of_a_recovered_order_shows_in_the_positions(sc: Scenario) -> None:
    sc.feed(sc.open_order("r", "Submitted", order_id=0, perm_id=4343))
    sc.feed(sc.fill("r", "40", perm_id=4343, order_id=0))
    assert sc.order("r").status is Status.PARTIALLY_FILLED
    (position,) = sc.engine.positions()
    assert position.instrument == AAPL
    assert position.quantity == 40


def test_an_exec_id_without_a_revision_counts_once() -> None:
    ledger = FillLedger()
    limit = Decimal(100)
    assert ledger.add_new("plain", Decimal(5), Decimal(10), T0, limit) == 5
    assert ledger.add_new("plain", Decimal(5), Decimal(10), T0, limit) is None
    assert ledger.filled == 5


def test_negative_flatten_fill_wait_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="flatten_fill_wait"):
        EngineConfig(account=ACCOUNT, flatten_fill_wait=timedelta(seconds=-1))


def test_a_correction_keeps_the_commission_of_the_execution_it_replaces() -> None:
    ledger = FillLedger()
    ledger.apply("0000e0d5.0001.01.01", Decimal(10), Decimal(100), T0)
    assert ledger.set_commission("0000e0d5.0001.01.01", Decimal("1.25"))
    ledger.apply("0000e0d5.0001.01.02", Decimal(8), Decimal(100), T0)
    (view,) = ledger.views()
    assert view.exec_id == "0000e0d5.0001.01.02"
    assert view.commission == Decimal("1.25")
    assert not ledger.set_commission("0000e0d5.0001.01.01", Decimal(2))


def test_an_order_move_is_stamped_with_the_broker_time_of_the_event(sc: Scenario) -> None:
    sc.working("o1")
    sc.tick(10)
    sc.feed(sc.fill("o1", "10"))
    assert sc.order("o1").updated_at == sc.now


def test_a_cancel_request_and_the_brokers_answer_each_restamp_the_order(sc: Scenario) -> None:
    from ibguard.engine.events import RequestCancel

    sc.working("o1")
    sc.tick(10)
    sc.feed(RequestCancel(oms_id="o1"))
    assert sc.order("o1").updated_at == sc.now  # our own move, at the latest broker time
    sc.tick(5)
    sc.feed(sc.status("o1", "Cancelled"))
    assert sc.order("o1").updated_at == sc.now  # the broker's move


def test_a_commission_for_an_execution_not_ours_is_not_logged_as_attached(sc: Scenario) -> None:
    from ibguard.engine.events import CommissionReport

    sc.feed(CommissionReport(exec_id="unknown.01", commission=Decimal(1)))
    assert sc.records(LogCode.COMMISSION) == []


def test_a_second_partial_fill_logs_no_second_status_change(sc: Scenario) -> None:
    sc.working("o1", "10")
    sc.feed(sc.fill("o1", "3"))
    logged = len(sc.records(LogCode.ORDER_ACKNOWLEDGED))
    sc.feed(sc.fill("o1", "3"))  # still PARTIALLY_FILLED: nothing changed to report
    assert len(sc.records(LogCode.ORDER_ACKNOWLEDGED)) == logged
    assert sc.order("o1").filled == 6


def test_an_order_confirmed_again_is_not_called_a_duplicate_broker_order(sc: Scenario) -> None:
    sc.working("o1")
    sc.feed(sc.open_order("o1"))  # the same permId again
    sc.feed(sc.status("o1", "Submitted", perm_id=0))  # a status before TWS sends the permId
    assert LogCode.DUPLICATE_BROKER_ORDER not in sc.alerts.codes
    assert sc.order("o1").status is Status.WORKING


def test_a_reconnect_does_not_call_an_acknowledged_order_recovered(sc: Scenario) -> None:
    from ibguard.engine.events import ConnectionLost, ConnectionRestored, OpenOrdersSnapshot

    sc.working("o1")
    sc.feed(ConnectionLost(reason="socket closed"), ConnectionRestored(data_lost=False))
    sc.feed(sc.open_order("o1"), OpenOrdersSnapshot())
    assert sc.records(LogCode.RECONCILE_RECOVERED) == []
    assert sc.order("o1").status is Status.WORKING


def test_an_order_the_broker_rejected_shows_its_broker_order_id(sc: Scenario) -> None:
    from ibguard.engine.events import BrokerError

    sc.submit("o1")
    order_id = sc.placed("o1").order_id
    sc.feed(BrokerError(req_id=order_id, code=201, message="Order rejected"))
    assert sc.order("o1").status is Status.REJECTED
    assert sc.order("o1").broker_order_id == order_id  # the broker had it: it answered


def test_an_order_synthesized_from_a_fill_shows_its_broker_ids(sc: Scenario) -> None:
    sc.feed(sc.fill("ghost", "10", order_id=55, perm_id=4242))
    assert sc.order("ghost").broker_order_id == 55
    assert sc.order("ghost").client_id == sc.config.client_id


def test_a_fill_with_an_orderid_for_a_recovered_order_binds_the_alias(sc: Scenario) -> None:
    sc.feed(sc.open_order("r", "Submitted", order_id=0, perm_id=4242))
    sc.feed(sc.fill("r", "40", perm_id=4242, order_id=321))
    assert sc.order("r").broker_order_id == 321
    assert sc.order("r").filled == 40
