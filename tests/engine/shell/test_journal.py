"""The write-ahead journal: a restarted engine rebuilds its book exactly, quietly."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from contextlib import closing
from datetime import timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ibguard.engine import Engine, Instrument, LogCode, OrderRequest, OrderType, Side, Status
from ibguard.engine.events import (
    BrokerError,
    CommissionReport,
    CompletedOrdersSnapshot,
    ConnectionLost,
    ConnectionRestored,
    ContractDetails,
    Event,
    ExecutionReport,
    ExecutionsSnapshot,
    FlattenAll,
    ManagedAccounts,
    NextValidId,
    OpenOrdersSnapshot,
    PositionReport,
    PositionsSnapshot,
    Reconcile,
    RequestCancel,
    ServerTime,
    SubmitOrder,
    Tick,
    WhatIfResult,
)
from ibguard.engine.shell.event_codec import JournalCorrupt, decode_event, encode_event
from ibguard.engine.shell.journal import SqliteJournal
from ibguard.engine.shell.pump import Pump

from tests.engine.scenario import AAPL, ACCOUNT, T0, Scenario
from tests.fakes.broker import QuietBroker


def _every_event_kind(sc: Scenario) -> list[Event]:
    sc.submit("o1")
    request = OrderRequest(
        instrument=AAPL,
        side=Side.SELL,
        quantity=Decimal("2.5"),
        order_type=OrderType.MARKET,
        flatten_reason="eod",
    )
    return [
        SubmitOrder(oms_id="o2", request=request),
        RequestCancel(oms_id="o1"),
        FlattenAll(reason="eod"),
        Reconcile(reason="x"),
        Tick(now=T0),
        sc.open_order("o1"),
        sc.status("o1", "Submitted"),
        sc.fill("o1", "10", "100.123456789"),
        CommissionReport(exec_id="e", commission=Decimal("0.35"), realized_pnl=None),
        BrokerError(req_id=-1, code=2104, message="ok"),
        ConnectionLost(reason="socket"),
        ConnectionRestored(data_lost=False, client_id=7),
        NextValidId(order_id=5),
        ManagedAccounts(accounts=("DU1", "DU2")),
        ServerTime(broker_time=T0 + timedelta(seconds=47.3), local_time=T0),
        PositionReport(account=ACCOUNT, instrument=AAPL, quantity=Decimal(-3)),
        ContractDetails(instrument=AAPL, previous_symbol="AAPL.OLD"),
        OpenOrdersSnapshot(orders=(sc.open_order("o1"),)),
        CompletedOrdersSnapshot(orders=(sc.open_order("o1", "Filled"),)),
        ExecutionsSnapshot(executions=(sc.fill("o1", "1"),), commissions=()),
        PositionsSnapshot(
            positions=(PositionReport(account=ACCOUNT, instrument=AAPL, quantity=Decimal(1)),)
        ),
        WhatIfResult(request_id=1, margin_ok=False, detail="no", extra=(("a", "b"),)),
    ]


def test_every_event_type_round_trips_exactly(sc: Scenario) -> None:
    from ibguard.engine import events

    samples = _every_event_kind(sc)
    kinds = {type(e).__name__ for e in samples}
    declared = {n for n in events.__all__ if n not in ("BrokerEvent", "Event", "Intent")}
    assert kinds == declared
    for event in samples:
        assert decode_event(encode_event(event)) == event


def test_a_restarted_engine_rebuilds_the_same_book_without_repeating_decisions(
    tmp_path: Path, sc: Scenario
) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite")
    events: list[Event] = [
        Tick(now=T0),
        NextValidId(order_id=10),
        ManagedAccounts(accounts=(ACCOUNT,)),
    ]
    events += [
        ConnectionRestored(data_lost=True, client_id=7),
        OpenOrdersSnapshot(),
        CompletedOrdersSnapshot(),
        ExecutionsSnapshot(),
    ]
    for event in events:
        journal.append(event)
        sc.engine.handle(event)
    sc.sent.clear()
    sc.submit("a")
    sc.submit("b")
    live: list[Event] = [
        sc.open_order("a"),
        sc.fill("a", "40", "100.10"),
        sc.fill("a", "40", "100.10"),  # a duplicate, counted once again on replay
        sc.fill("a", "60", "100.30"),
        sc.open_order("b"),
        RequestCancel(oms_id="b"),
        sc.status("b", "Cancelled"),
    ]
    for event in live:
        sc.engine.handle(event)
    # the journal of the same run: intents and broker events in the order handled
    replay_events = [
        *events,
        SubmitOrder(oms_id="a", request=sc.placed("a").request),
        SubmitOrder(oms_id="b", request=sc.placed("b").request),
        *live,
    ]
    for event in replay_events[len(events) :]:
        journal.append(event)
    journal.close()

    restarted = Scenario(connect=False)
    reopened = SqliteJournal(tmp_path / "journal.sqlite")
    assert len(reopened) == len(replay_events)
    count = restarted.engine.replay(reopened.events())
    assert count == len(replay_events)
    assert restarted.engine.orders() == sc.engine.orders()
    assert restarted.engine.positions() == sc.engine.positions()
    assert restarted.order("a").status is Status.FILLED
    assert restarted.order("b").status is Status.CANCELED
    assert restarted.codes == [LogCode.JOURNAL_REPLAYED]
    assert restarted.alerts.alerts == []
    assert restarted.engine.queue_depth == 0


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "5",
        json.dumps({"v": 99, "event": {}}),
        json.dumps({"v": 1, "event": {"__type__": "os.system"}}),
        json.dumps({"v": 1, "event": {"__type__": "Instrument", "symbol": "X"}}),
        json.dumps({"v": 1, "event": {"__type__": "NextValidId", "order_id": 1, "bogus": 2}}),
        json.dumps(
            {"v": 1, "event": {"__type__": "CommissionReport", "exec_id": "e", "commission": 1.5}}
        ),
        json.dumps(
            {
                "v": 1,
                "event": {
                    "__type__": "CommissionReport",
                    "exec_id": "e",
                    "commission": {"__decimal__": "x"},
                },
            }
        ),
        json.dumps({"v": 1, "event": {"__enum__": "Nope", "value": 1}}),
        # format 2: positional rows, each value in its field's exact shape
        "[]",
        '[3,"NextValidId",1]',
        '[2,"os.system","x"]',
        '[2,"Instrument","AAPL",0,"STK","SMART","USD"]',
        '[2,"NextValidId"]',
        '[2,"NextValidId",1,2]',
        '[2,"NextValidId",true]',
        '[2,"NextValidId","1"]',
        '[2,"CommissionReport","e",1.5,"USD",null]',
        '[2,"CommissionReport","e","1e99","USD",null]',
        '[2,"ManagedAccounts",["DU1",7]]',
        '[2,"ManagedAccounts","DU1"]',
        '[2,"Tick","yesterday"]',
        '[2,"ConnectionLost",' + "[" * 50_000 + "]" * 50_000 + "]",
    ],
)
def test_a_corrupt_journal_row_is_a_clear_error_not_a_wrong_book(body: str) -> None:
    with pytest.raises(JournalCorrupt):
        decode_event(body)


def test_a_row_is_compact_and_positional() -> None:
    row = encode_event(NextValidId(order_id=7))
    assert row == '[2,"NextValidId",7]'
    assert decode_event(row) == NextValidId(order_id=7)


def test_only_engine_events_are_journaled() -> None:
    with pytest.raises(JournalCorrupt):
        encode_event(AAPL)  # type: ignore[arg-type]


def test_corrupt_row_in_the_database_surfaces_on_replay(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    journal.append(NextValidId(order_id=1))
    journal.close()
    with closing(sqlite3.connect(tmp_path / "j.sqlite")) as raw, raw:
        raw.execute("INSERT INTO events (kind, body) VALUES ('X', 'garbage')")
    journal = SqliteJournal(tmp_path / "j.sqlite")
    with pytest.raises(JournalCorrupt):
        list(journal.events())
    journal.close()


def test_the_pump_writes_each_event_before_the_engine_handles_it(tmp_path: Path) -> None:
    from ibguard.engine import EngineConfig

    journal = SqliteJournal(tmp_path / "j.sqlite")
    engine = Engine(EngineConfig(account=ACCOUNT))
    broker = QuietBroker(ACCOUNT)
    seen_in_journal: list[int] = []
    original = engine.handle

    def handle(event: Event):  # type: ignore[no-untyped-def]
        seen_in_journal.append(len(journal))
        return original(event)

    engine.handle = handle  # type: ignore[method-assign]
    pump = Pump(engine, broker, journal)
    pump.start()
    import asyncio

    asyncio.run(broker.connect())
    # every event was stored before the engine saw it (batches may store a few ahead)
    assert len(seen_in_journal) == len(journal)
    assert all(stored >= handled for handled, stored in enumerate(seen_in_journal, 1))
    kinds = [type(e).__name__ for e in journal.events()]
    assert kinds[:3] == ["NextValidId", "ManagedAccounts", "ConnectionRestored"]
    assert "PositionsSnapshot" in kinds


def test_text_of_any_kind_and_absent_values_round_trip() -> None:
    for event in (
        BrokerError(req_id=-1, code=2104, message='é "quoted" \\ back\nslash \x00 ☃'),
        CommissionReport(exec_id="e", commission=Decimal("-0.00"), realized_pnl=None),
        ManagedAccounts(accounts=()),
        WhatIfResult(request_id=1, margin_ok=True, extra=(("k", "v é"),)),
    ):
        row = encode_event(event)
        assert row.isascii()
        assert json.loads(row)[1] == type(event).__name__
        assert decode_event(row) == event
    commission = decode_event(
        encode_event(CommissionReport(exec_id="e", commission=Decimal("-0.00")))
    )
    assert isinstance(commission, CommissionReport)
    assert str(commission.commission) == "-0.00"  # digits and sign kept


def test_an_int_field_holding_a_bool_is_refused_when_written() -> None:
    with pytest.raises(JournalCorrupt):
        encode_event(NextValidId(order_id=True))


def test_format_1_rows_still_read_including_lists_and_their_depth_limit() -> None:
    row = json.dumps({"v": 1, "event": {"__type__": "ManagedAccounts", "accounts": ["DU1", "DU2"]}})
    assert decode_event(row) == ManagedAccounts(accounts=("DU1", "DU2"))
    deep: object = "DU1"
    for _ in range(40):
        deep = [deep]
    with pytest.raises(JournalCorrupt, match="deeper"):
        decode_event(
            json.dumps({"v": 1, "event": {"__type__": "ManagedAccounts", "accounts": deep}})
        )


def test_a_field_type_the_codec_has_no_shape_for_is_an_internal_error() -> None:
    from ibguard.engine.shell import event_codec
    from ibguard.errors import InternalError

    assert event_codec._optional(int | str | None) is None  # not a plain "X | None"
    with pytest.raises(InternalError):
        event_codec._expression(float, "value", {})
    with pytest.raises(InternalError):
        event_codec._decoder(set[int])


@dataclasses.dataclass(frozen=True)
class _Report:
    perm_id: int
    ref: str
    price: Decimal


@pytest.mark.parametrize(
    ("run", "says"),
    [
        (("perm_id", "price"), "consecutive fields with its key"),  # ref between them
        (("ref",), "consecutive fields with its key"),  # no permId to keep it by
        (("perm_id", "ref", "price"), "no order-run check for <class 'decimal.Decimal'>"),
    ],
)
def test_an_order_run_the_codec_cannot_keep_is_an_internal_error(
    run: tuple[str, ...], says: str
) -> None:
    from ibguard.engine.shell import event_codec
    from ibguard.errors import InternalError

    with pytest.raises(InternalError, match=says):
        event_codec._pieces_with_run(_Report, run, event_codec._names(), [])


@pytest.mark.parametrize("size", [2, 250])  # one INSERT statement; several in a transaction
def test_a_failed_batch_write_leaves_nothing_half_written(tmp_path: Path, size: int) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    journal.append(NextValidId(order_id=1))
    last = 1 + size  # the batch's last event fails to be written (in its last row)
    journal._db.execute(  # the journal holds its file alone: refuse on its own connection
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON events "
        f"WHEN instr(NEW.body, '\"NextValidId\",{last}]') BEGIN SELECT RAISE(ABORT, 'full'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        journal.append_all([NextValidId(order_id=n) for n in range(2, 2 + size)])
    assert list(journal.events()) == [NextValidId(order_id=1)]
    journal.close()


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 250])
def test_a_batch_of_any_size_is_stored_whole_and_in_order(tmp_path: Path, size: int) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    journal.append(NextValidId(order_id=1))
    batch = [NextValidId(order_id=n) for n in range(2, 2 + size)]
    journal.append_all(batch)
    assert list(journal.events()) == [NextValidId(order_id=1), *batch]
    journal.close()


def test_a_time_keeps_its_offset_even_next_to_the_same_instant_in_utc(sc: Scenario) -> None:
    # the encoder reuses the text of the last UTC time: an equal instant in another zone,
    # or the next second, must still be written as itself
    new_york = T0.astimezone(ZoneInfo("America/New_York"))
    times = [T0, T0, new_york, T0, T0 + timedelta(seconds=1), new_york, T0]
    rows = [encode_event(sc.fill("o1", "1", time=when)) for when in times]
    decoded = [decode_event(row) for row in rows]
    offsets = [e.time.utcoffset() for e in decoded]  # type: ignore[union-attr]
    assert offsets == [when.utcoffset() for when in times]
    assert [e.time for e in decoded] == times  # type: ignore[union-attr]
    assert '"2026-11-24T15:00:00+00:00"' in rows[0]
    assert '"2026-11-24T10:00:00-05:00"' in rows[2]
    late = ServerTime(broker_time=T0 + timedelta(seconds=2), local_time=new_york)
    assert decode_event(encode_event(late)) == late
    assert T0.tzinfo is timezone.utc  # what the connector produces, and what is reused


def test_optional_times_keep_their_offsets_and_nested_reports_read_back(sc: Scenario) -> None:
    # a time inside an optional field or a nested report is written by the general path
    new_york = T0.astimezone(ZoneInfo("America/New_York"))
    reports = [
        dataclasses.replace(sc.open_order("o1"), time=when, remaining=Decimal("0.5"))
        for when in (T0, T0, new_york, None, T0 + timedelta(microseconds=1))
    ]
    events = [*reports, OpenOrdersSnapshot(orders=tuple(reports))]
    rows = [encode_event(event) for event in events]
    assert [decode_event(row) for row in rows] == events
    assert '"2026-11-24T10:00:00-05:00"' in rows[2]
    assert rows[3].endswith('"0.5",null]')


def test_a_batch_is_one_row_and_reads_back_as_its_events(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    batch = [NextValidId(order_id=n) for n in range(1, 4)]
    journal.append_all(batch)
    rows = journal._db.execute("SELECT kind, body FROM events").fetchall()
    assert rows == [("batch", '[[2,"NextValidId",1],[2,"NextValidId",2],[2,"NextValidId",3]]')]
    assert list(journal.events()) == batch
    assert len(journal) == 3
    journal.close()


def test_a_journal_of_one_row_per_event_from_before_batch_rows_replays_then_grows(
    tmp_path: Path, sc: Scenario
) -> None:
    # rows as earlier versions wrote them: one per event, format 1 and format 2 mixed
    old = [sc.fill("o1", "1"), ManagedAccounts(accounts=("DU1",)), NextValidId(order_id=9)]
    bodies = [
        encode_event(old[0]),
        json.dumps({"v": 1, "event": {"__type__": "ManagedAccounts", "accounts": ["DU1"]}}),
        encode_event(old[2]),
    ]
    journal = SqliteJournal(tmp_path / "j.sqlite")
    journal.close()
    with closing(sqlite3.connect(tmp_path / "j.sqlite")) as raw, raw:
        raw.executemany(
            "INSERT INTO events (kind, body) VALUES (?, ?)",
            [(type(e).__name__, body) for e, body in zip(old, bodies, strict=True)],
        )
    journal = SqliteJournal(tmp_path / "j.sqlite")
    new = [NextValidId(order_id=10), NextValidId(order_id=11)]
    journal.append_all(new)
    assert list(journal.events()) == [*old, *new]
    assert len(journal) == 5
    journal.close()


def _page_size(path: Path) -> int:
    with closing(sqlite3.connect(path)) as raw:
        (size,) = raw.execute("PRAGMA page_size").fetchone()
    return int(size)


def test_new_journals_have_small_pages_and_older_ones_keep_theirs(tmp_path: Path) -> None:
    # a journal as earlier versions made it (SQLite's default 4 KiB pages, AUTOINCREMENT)
    with closing(sqlite3.connect(tmp_path / "old.sqlite")) as raw, raw:
        raw.execute(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
            " body TEXT NOT NULL)"
        )
        raw.execute(
            "INSERT INTO events (kind, body) VALUES (?, ?)",
            ("NextValidId", encode_event(NextValidId(order_id=9))),
        )
    assert _page_size(tmp_path / "old.sqlite") == 4096
    old = SqliteJournal(tmp_path / "old.sqlite")
    old.append_all([NextValidId(order_id=10), NextValidId(order_id=11)])
    old.close()
    new = SqliteJournal(tmp_path / "new.sqlite")
    new.append_all([NextValidId(order_id=10), NextValidId(order_id=11)])
    new.close()
    # fewer bytes per commit: each commit writes the pages it touched to the WAL whole
    assert _page_size(tmp_path / "new.sqlite") == 2048
    assert _page_size(tmp_path / "old.sqlite") == 4096
    reopened = SqliteJournal(tmp_path / "old.sqlite")
    assert list(reopened.events()) == [NextValidId(order_id=n) for n in (9, 10, 11)]
    reopened.close()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[]", "no array of event rows"),
        ('{"v": 1}', "no array of event rows"),
        ('[[2,"NextValidId",1],7]', "expected an array"),
        ('[[2,"NextValidId",1],[2,"NextValidId","x"]]', "expected int"),
        ('[[2,"NextValidId",1],[2,"Instrument","AAPL"]]', "not an event"),
        ("[[2,", "unreadable"),
    ],
)
def test_a_corrupt_batch_row_names_its_row_on_replay(tmp_path: Path, body: str, says: str) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    journal.append(NextValidId(order_id=1))
    journal.close()
    with closing(sqlite3.connect(tmp_path / "j.sqlite")) as raw, raw:
        raw.execute("INSERT INTO events (kind, body) VALUES ('batch', ?)", (body,))
    journal = SqliteJournal(tmp_path / "j.sqlite")
    with pytest.raises(JournalCorrupt, match=f"row 2: .*{says}"):
        list(journal.events())
    journal.close()


def test_instruments_written_from_their_kept_text_read_back_as_themselves(
    sc: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ibguard.engine import Instrument
    from ibguard.engine.shell import event_codec

    monkeypatch.setattr(event_codec, "_SHARED_KEPT", 2)  # forgets all, every third contract
    contracts = [Instrument(symbol=f"S{n}", con_id=n, exchange=f"X{n}") for n in range(1, 6)]
    rows = [
        encode_event(PositionReport(account=ACCOUNT, instrument=each, quantity=Decimal(n)))
        for n, each in enumerate(contracts * 3)  # each contract again, kept or forgotten
    ]
    decoded = [decode_event(row) for row in rows]
    assert [e.instrument for e in decoded] == contracts * 3  # type: ignore[attr-defined]
    assert '["S1",1,"STK","X1","USD"]' in rows[0]


def _fills_of_one_order_and_its_changes(sc: Scenario) -> list[ExecutionReport]:
    """Fills of one order (the same permId throughout) whose order run changes: its
    orderId reassigned, another client, another ref, an equal but other contract object,
    the other side; and a repeat of each after it."""
    sc.submit("o1")
    first = sc.fill("o1", "1")
    other = Instrument(symbol="AAPL", con_id=AAPL.con_id, exchange=AAPL.exchange)
    changed = [
        dataclasses.replace(first, exec_id="e2"),
        dataclasses.replace(first, exec_id="e3", order_id=first.order_id + 1000),
        dataclasses.replace(first, exec_id="e4", client_id=first.client_id + 1),
        dataclasses.replace(first, exec_id="e5", order_ref="ibg:other"),
        dataclasses.replace(first, exec_id="e6", instrument=other),
        dataclasses.replace(first, exec_id="e7", side=Side.SELL),
    ]
    return [first, *[each for fill in changed for each in (fill, fill)]]


def test_a_fill_row_made_from_its_orders_kept_text_is_the_row_made_afresh(
    sc: Scenario,
) -> None:
    from ibguard.engine.shell.event_codec import forget_kept_texts

    fills = _fills_of_one_order_and_its_changes(sc)
    kept = [encode_event(fill) for fill in fills]
    afresh = []
    for fill in fills:
        forget_kept_texts()
        afresh.append(encode_event(fill))
    assert kept == afresh
    assert [decode_event(row) for row in kept] == fills
    assert len(set(kept)) == len(fills) - 6  # each change written, each repeat the same


def test_a_bool_in_a_fill_is_refused_even_when_its_equal_int_is_kept(sc: Scenario) -> None:
    sc.submit("o1")
    fill = sc.fill("o1", "1")
    encode_event(dataclasses.replace(fill, order_id=1, client_id=1))  # kept: 1 and 1
    for ids in ({"order_id": True, "client_id": 1}, {"order_id": 1, "client_id": True}):
        with pytest.raises(JournalCorrupt, match="not an int: True"):
            encode_event(dataclasses.replace(fill, **ids))


def test_kept_order_texts_stay_bounded_and_rows_stay_right_once_forgotten(
    sc: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ibguard.engine.shell import event_codec

    monkeypatch.setattr(event_codec, "_SHARED_KEPT", 2)  # forgets all, every third order
    sc.submit("o1")
    fill = sc.fill("o1", "1")
    orders = [dataclasses.replace(fill, perm_id=n, exec_id=f"e{n}") for n in range(1, 6)]
    rows = [encode_event(each) for each in orders * 3]
    assert [decode_event(row) for row in rows] == orders * 3
    runs = event_codec._ROW_ENCODERS[ExecutionReport].__globals__["_runs"]
    assert len(runs._texts) <= 2


def test_a_journal_open_in_one_service_is_refused_to_another_until_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ibguard.engine.errors import ConfigError
    from ibguard.engine.shell import journal as journal_module

    monkeypatch.setattr(journal_module, "_LOCK_WAIT", 0.01)
    first = SqliteJournal(tmp_path / "j.sqlite")
    first.append(NextValidId(order_id=1))
    with pytest.raises(ConfigError, match="in use by another process"):
        SqliteJournal(tmp_path / "j.sqlite")
    with (
        sqlite3.connect(tmp_path / "j.sqlite", timeout=0.01) as reader,
        pytest.raises(sqlite3.OperationalError, match="locked"),
    ):
        reader.execute("SELECT COUNT(*) FROM events").fetchone()
    first.close()
    second = SqliteJournal(tmp_path / "j.sqlite")
    assert list(second.events()) == [NextValidId(order_id=1)]
    second.close()


def test_a_journal_that_cannot_be_opened_for_another_reason_says_so(tmp_path: Path) -> None:
    (tmp_path / "j.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with pytest.raises(sqlite3.DatabaseError):
        SqliteJournal(tmp_path / "j.sqlite")


def test_a_batch_holding_anything_but_engine_events_is_refused_whole(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    with pytest.raises(JournalCorrupt, match="not an engine event: Instrument"):
        journal.append_all([NextValidId(order_id=1), AAPL])  # type: ignore[list-item]
    assert len(journal) == 0
    journal.close()
