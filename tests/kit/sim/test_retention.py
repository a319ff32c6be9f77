"""The day's finished orders, executions and requests at the SimBroker move to its archive
file as the day goes on, and every answer stays what it was with everything in memory.

`objects_per_archive_batch=0` archives at the end of every operation; a broker that never
archives (a batch larger than the day) is the reference each answer is compared with.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from ibguard.errors import UsageError
from ibguard.kit.sim import LateFillOnCancel, RejectOrder, SimBroker
from ibguard.kit.sim import messages as ib
from ibguard.kit.sim.archive import DayArchive, FlatCodec
from ibguard.kit.sim.observe import RequestRecord
from sim_recording import Recorder, limit, market, quiet, stock

D = Decimal
NEVER = 1_000_000  # a batch no test day reaches: everything stays in memory
ACCOUNTS = ("DU1", "DU2")


def _broker(batch: int) -> SimBroker:
    return quiet(rate_limit_per_second=10**6, accounts=ACCOUNTS, objects_per_archive_batch=batch)


def _trade_a_day(broker: SimBroker) -> dict[int, Recorder]:
    """Two clients trade: fills, partial and late fills, cancels, a rejection, a correction,
    a replay, a second account, an injected broadcast order; the clock moves between."""
    recorders = {cid: Recorder() for cid in (7, 8)}
    s7, s8 = (broker.connect(cid, rec) for cid, rec in recorders.items())
    broker.script.arm(RejectOrder(symbol="IBM"))
    for i in range(1, 21):
        s7.place_order(i, stock(), market("BUY" if i % 2 else "SELL", i, ref=f"m{i}"))
        broker.advance(1)
    s7.place_order(21, stock("IBM"), limit("BUY", 1, "1"))  # rejected: Inactive
    for i in range(22, 27):
        s7.place_order(i, stock("MSFT"), limit("BUY", 5, "90", ref="rest"))
    s7.cancel_order(22)
    broker.script.arm(LateFillOnCancel(shares=D(2), price=D(90)))
    s7.cancel_order(23)  # cancelled, then 2 of 5 filled late
    broker.advance(30)
    broker.set_price("MSFT", D(89))  # 24, 25, 26 fill
    last = broker.ledger.executions[-1].execution.execId
    broker.correct_execution(last, price=D("88.5"))
    broker.duplicate_execution(last)
    for i in range(1, 11):
        order = market("SELL", 3, ref=f"b{i}")
        s8.place_order(i, stock("MSFT"), ib.Order(**_fields(order), account="DU2"))
    injected = broker.inject_order(
        client_id=9, symbol="AAPL", action="BUY", quantity=D(4), broadcast=True, lmt_price=D(1)
    )
    broker.advance(5)
    broker.fill(injected.perm_id, D(4), D(100))
    for rec in recorders.values():
        rec.clear()
    return recorders


def _fields(order: ib.Order) -> dict[str, object]:
    return {
        "action": order.action,
        "totalQuantity": order.totalQuantity,
        "orderType": order.orderType,
        "orderRef": order.orderRef,
    }


def _ask_everything(broker: SimBroker) -> list[ib.Message]:
    """reqCompletedOrders (all, API only) and reqExecutions under every filter, per client;
    then what TWS answers to changing or cancelling finished orders."""
    start = broker.config.start
    answers: list[ib.Message] = []
    for cid in (7, 8):
        session, rec = broker.session(cid), Recorder()
        session.listener = rec
        session.req_completed_orders()
        session.req_completed_orders(api_only=True)
        session.req_executions(1)
        session.req_executions(2, client_id=8)
        session.req_executions(3, acct_code="DU2")
        session.req_executions(4, time=start + timedelta(seconds=10))
        session.req_executions(5, symbol="MSFT")
        session.req_executions(6, side="BUY")
        session.req_executions(7, side="SELL", symbol="AAPL")
        session.req_open_orders()
        answers += rec.messages
    s7 = broker.session(7)
    rec = Recorder()
    s7.listener = rec
    s7.place_order(1, stock(), market("BUY", 1))  # filled: 104
    s7.place_order(22, stock("MSFT"), limit("BUY", 5, "90"))  # cancelled: 103
    s7.cancel_order(2)  # filled: 10148
    s7.cancel_order(999)  # never placed: 10147
    answers += rec.messages
    answers += [*broker.orders(), *broker.orders_by_ref("rest"), *broker.ledger.executions]
    answers += [r.request for r in broker.requests.placed()]
    return answers


def test_every_answer_about_the_day_is_the_same_with_the_day_archived() -> None:
    reference, archived = _broker(NEVER), _broker(0)
    _trade_a_day(reference)
    _trade_a_day(archived)
    expected = _ask_everything(reference)
    assert archived.ledger.archive.path is not None  # the day did go to the file
    assert reference.ledger.archive.path is None
    assert _ask_everything(archived) == expected
    assert (
        len([m for m in expected if isinstance(m, ib.CompletedOrder)]) == 2 * 2 * 37
    )  # 37 finished, twice, to each client
    errors = [m.errorCode for m in expected if isinstance(m, ib.Error)]
    assert errors[-4:] == [104, 103, 10148, 10147]


def test_a_long_day_holds_about_one_batch_of_finished_orders_as_objects() -> None:
    broker, rec = _broker(20), Recorder()
    session = broker.connect(7, rec)
    for i in range(1, 301):
        session.place_order(i, stock(), market("BUY" if i % 2 else "SELL", 1))
    orders, executions = broker.ledger.objects_held()
    assert orders <= 21
    assert executions <= 21
    rec.clear()
    session.req_completed_orders()
    session.req_executions(1)
    assert len(rec.of(ib.CompletedOrder)) == len(rec.of(ib.ExecDetails)) == 300
    assert len(broker.requests.placed()) == 300


def test_a_late_fill_of_an_archived_order_changes_the_order_the_caller_holds() -> None:
    broker, rec = _broker(0), Recorder()
    session = broker.connect(7, rec)
    held = broker.inject_order(
        client_id=7, symbol="AAPL", action="BUY", quantity=D(5), lmt_price=D(1)
    )
    broker.cancel_at_broker(held.perm_id)
    session.place_order(held.order_id + 1, stock(), market("BUY", 1))  # archives the cancel
    assert broker.ledger.archive.path is not None
    broker.fill(held.perm_id, D(5), D(1))  # filled after it was cancelled
    assert (held.status, held.filled) == ("Filled", D(5))
    assert broker.ledger.order(held.perm_id) is held
    rec.clear()
    session.req_completed_orders()
    assert [m.orderState.status for m in rec.of(ib.CompletedOrder)] == ["Filled", "Filled"]


def test_an_archived_order_taken_out_by_nobody_comes_back_with_its_changes() -> None:
    broker, rec = _broker(0), Recorder()
    session = broker.connect(7, rec)
    perm_id = broker.inject_order(
        client_id=7, symbol="AAPL", action="BUY", quantity=D(5), lmt_price=D(1)
    ).perm_id
    broker.cancel_at_broker(perm_id)  # archived, and nobody holds the object: only the row
    broker.fill(perm_id, D(2), D(1))  # a partial late fill: still Cancelled
    session.req_current_time()  # another operation: archived again, with the fill
    assert (broker.ledger.order(perm_id).status, broker.ledger.order(perm_id).filled) == (
        "Cancelled",
        D(2),
    )


def test_a_new_day_empties_the_archive_of_yesterday_but_keeps_live_orders() -> None:
    broker = _broker(0)
    session = broker.connect(7, Recorder())
    for i in range(1, 11):
        session.place_order(i, stock(), market("BUY", 1))
    gtc = broker.inject_order(
        client_id=7, symbol="AAPL", action="BUY", quantity=D(1), lmt_price=D(1), tif="GTC"
    )
    mark = broker.requests.mark()
    broker.advance(3600)
    held = broker.ledger.latest_order(7, 1)  # a caller keeps yesterday's filled order
    assert held is not None
    broker.new_day()
    assert broker.orders() == (gtc,)
    assert held.perm_id not in broker.ledger.orders
    assert list(broker.ledger.executions) == []
    assert len(broker.requests) == 0
    session.req_current_time()
    assert [r.request for r in broker.requests.after_seq(mark)] == ["reqCurrentTime"]
    session.place_order(1, stock(), market("BUY", 1))  # orderIds are free again
    assert [o.status for o in broker.orders()] == ["Submitted", "Filled"]


def test_forgetting_an_archived_order_removes_its_executions_from_the_reports() -> None:
    broker, rec = _broker(0), Recorder()
    session = broker.connect(7, rec)
    for i in range(1, 4):
        session.place_order(i, stock(), market("BUY", 1))
    forgotten = broker.ledger.latest_order(7, 2)
    assert forgotten is not None
    broker.forget_order(forgotten.perm_id)
    rec.clear()
    session.req_executions(1)
    session.req_completed_orders()
    assert [m.execution.orderId for m in rec.of(ib.ExecDetails)] == [1, 3]
    assert len(rec.of(ib.CompletedOrder)) == 2
    assert broker.ledger.latest_order(7, 2) is None


def test_order_ids_used_out_of_order_are_duplicates_until_the_next_day() -> None:
    broker, rec = _broker(NEVER), Recorder()
    session = broker.connect(7, rec)
    for order_id in (5, 3, 4, 10, 1):
        session.place_order(order_id, stock("MSFT"), limit("BUY", 1, "1"))
        session.cancel_order(order_id)
    rec.clear()
    for order_id in (1, 2, 3, 4, 5, 6, 10, 11):
        session.place_order(order_id, stock("MSFT"), limit("BUY", 1, "1"))
        session.cancel_order(order_id)
    duplicates = [m.reqId for m in rec.of(ib.Error) if m.errorCode == 103]
    assert duplicates == [1, 3, 4, 5, 10]
    broker.new_day()
    rec.clear()
    session.place_order(3, stock("MSFT"), limit("BUY", 1, "1"))
    assert rec.errors() == []


def test_an_archived_row_reads_back_exactly_zones_and_decimal_places_included() -> None:
    archive = DayArchive()
    codec = FlatCodec(RequestRecord)
    times = [
        datetime(2024, 3, 10, 6, 59, 59, 999_999, tzinfo=timezone.utc),
        datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=ZoneInfo("US/Eastern")),
        datetime(2024, 1, 2, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2024, 1, 2, 9, 30),
    ]
    for when in times:
        record = RequestRecord(seq=1, time=when, client_id=7, request="placeOrder", order_id=None)
        back = archive.decode(codec, archive.encode(codec, record))
        assert back == record
        assert (back.time.tzinfo, back.time.fold, back.time.utcoffset()) == (
            when.tzinfo,
            when.fold,
            when.utcoffset(),
        )
    broker = _broker(0)
    broker.connect(7, Recorder()).place_order(1, stock(), limit("BUY", "1.50", "100.010"))
    assert broker.ledger.objects_held() == (0, 0)  # filled, and read back from its row
    (order,) = broker.orders()
    assert (str(order.quantity), str(order.lmt_price), order.status) == (
        "1.50",
        "100.010",
        "Filled",
    )


def test_a_negative_archive_batch_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="objects_per_archive_batch must be 0 or more"):
        _broker(-1)
