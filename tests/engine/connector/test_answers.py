"""The one answer tracker both connectors feed: reports in, snapshots out, nothing else."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from ibguard.engine.connector.answers import Answers
from ibguard.engine.connector.translate import Margin
from ibguard.engine.events import (
    BrokerEvent,
    CommissionReport,
    ExecutionReport,
    ExecutionsSnapshot,
    OpenOrderReport,
    OpenOrdersSnapshot,
    OrderStatusReport,
    WhatIfResult,
)
from ibguard.engine.model import Instrument, OrderType, Side, TimeInForce

D = Decimal
AAPL = Instrument(symbol="AAPL")


def _row(order_id: int, perm_id: int) -> OpenOrderReport:
    return OpenOrderReport(
        order_id=order_id, client_id=7, perm_id=perm_id, order_ref="ibg:a", instrument=AAPL,
        side=Side.BUY, quantity=D(10), order_type=OrderType.LIMIT, limit_price=D(1),
        tif=TimeInForce.DAY, account="DU1", status="PreSubmitted",
    )  # fmt: skip


def _status(order_id: int, perm_id: int, filled: str) -> OrderStatusReport:
    return OrderStatusReport(
        order_id=order_id, client_id=7, perm_id=perm_id, status="Submitted",
        filled=D(filled), remaining=D(10) - D(filled), avg_fill_price=D(0),
    )  # fmt: skip


def _execution(exec_id: str) -> ExecutionReport:
    return ExecutionReport(
        exec_id=exec_id, order_id=1, client_id=7, perm_id=5, order_ref="ibg:a",
        instrument=AAPL, side=Side.BUY, shares=D(1), price=D(1), account="DU1",
        time=datetime(2026, 11, 24, 15, tzinfo=timezone.utc),
    )  # fmt: skip


def test_open_orders_pair_with_their_status_and_others_pass_alone() -> None:
    out: list[BrokerEvent] = []
    answers = Answers(out.append)
    answers.expect_open_orders()
    answers.open_order(_row(1, 501))
    answers.open_order(_row(2, 502))
    answers.order_status(_status(2, 502, "4"))
    answers.order_status(_status(9, 509, "1"))  # no row waits for it: delivered alone
    assert out == [_status(9, 509, "1")]
    answers.open_orders_end()
    (snapshot,) = out[1:]
    assert isinstance(snapshot, OpenOrdersSnapshot)
    assert [(r.order_id, r.status, r.filled) for r in snapshot.orders] == [
        (1, "PreSubmitted", D(0)),
        (2, "Submitted", D(4)),
    ]
    answers.open_order(_row(3, 503))  # outside a request: alone
    assert out[-1] == _row(3, 503)


def test_executions_take_their_commissions_and_live_ones_pass() -> None:
    out: list[BrokerEvent] = []
    answers = Answers(out.append)
    answers.expect_executions(40)
    answers.execution(40, _execution("e1"))
    answers.execution(-1, _execution("live"))
    commission = CommissionReport(exec_id="e1", commission=D("0.5"))
    live_commission = CommissionReport(exec_id="live", commission=D("0.5"))
    answers.commission(commission)
    answers.commission(live_commission)
    answers.executions_end(40)
    assert out == [
        _execution("live"),
        live_commission,
        ExecutionsSnapshot(executions=(_execution("e1"),), commissions=(commission,)),
    ]


def test_a_what_if_check_answers_once_all_its_orders_have_answered_and_reset_forgets() -> None:
    out: list[BrokerEvent] = []
    answers = Answers(out.append)
    answers.expect_what_if(3, [70, 71])
    assert answers.what_if_answer(70, Margin(True, None, None, ""))
    assert out == []
    assert answers.what_if_answer(71, Margin(False, None, None, "margin"))
    assert out == [WhatIfResult(request_id=3, margin_ok=False, detail="margin")]
    answers.expect_what_if(4, [72])
    answers.reset()
    assert not answers.is_what_if(72)
    assert not answers.what_if_answer(72, Margin(True, None, None, ""))
