"""The book's API: its tables are read-only outside it, and the direct paths for common
broker facts end exactly where the general ones do."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from ibguard.engine import ConfigError, EngineConfig, Status
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
    assert ledger.quantity == 5


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
