"""OPS-01: JSON-line log files rotate by size and daily, stay bounded, never crash."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ibguard.engine.errors import UsageError
from ibguard.engine.logcodes import LogCode
from ibguard.engine.shell.logfiles import (
    JsonLineFormatter,
    RotatingJsonFileHandler,
    configure_logging,
)

from tests.fakes.clock import ManualClock

NEW_YORK = ZoneInfo("America/New_York")


class Colour(Enum):
    RED = 1


def make_record(msg: str = "hello", args: tuple[object, ...] = (), **extra: object):
    record = logging.LogRecord("ibguard.engine.test", logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def read_lines(paths: list[Path]) -> list[dict[str, object]]:
    return [json.loads(line) for path in paths for line in path.read_text().splitlines()]


def emit_numbered(handler, count: int, clock: ManualClock, step_s=60, first=0):
    for seq in range(first, first + count):
        handler.handle(make_record("record %d", (seq,), seq=seq))
        clock.advance(seconds=step_s)


# --- the formatter -------------------------------------------------------------------


def test_formatter_renders_fixed_fields_code_and_every_extra():
    record = make_record(
        "filled %s",
        ("ORD-1",),
        code=LogCode.FILL_APPLIED,
        price=Decimal("100.10"),
        at=datetime(2024, 3, 8, 15, 50, tzinfo=NEW_YORK),
        day=date(2024, 3, 8),
        colour=Colour.RED,
        wait=timedelta(seconds=1.5),
        tags=frozenset({"b", "a"}),
        where=Path("/tmp/x"),
        nested={"qty": Decimal("30")},
    )
    record.created = datetime(2024, 3, 8, 12, 0, tzinfo=timezone.utc).timestamp()
    line = JsonLineFormatter().format(record)
    assert "\n" not in line
    obj = json.loads(line)
    assert list(obj)[:5] == ["time", "level", "logger", "code", "message"]
    assert obj["time"] == "2024-03-08T12:00:00+00:00"
    assert obj["level"] == "INFO"
    assert obj["logger"] == "ibguard.engine.test"
    assert obj["code"] == "FILL_APPLIED"
    assert obj["message"] == "filled ORD-1"
    assert obj["price"] == "100.10"
    assert obj["at"] == "2024-03-08T15:50:00-05:00"
    assert obj["day"] == "2024-03-08"
    assert obj["colour"] == 1
    assert obj["wait"] == 1.5
    assert obj["tags"] == ["a", "b"]
    assert obj["where"] == "/tmp/x"
    assert obj["nested"] == {"qty": "30"}


def test_formatter_code_is_null_without_one_and_plain_codes_pass_through():
    assert json.loads(JsonLineFormatter().format(make_record()))["code"] is None
    assert json.loads(JsonLineFormatter().format(make_record(code="X")))["code"] == "X"


def test_formatter_carries_exception_and_stack():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "m", (), sys.exc_info())
    record.stack_info = "Stack (most recent call last):\n  here"
    obj = json.loads(JsonLineFormatter().format(record))
    assert "ValueError: boom" in obj["exc"]
    assert obj["stack"].endswith("here")


def test_formatter_falls_back_to_text_for_unserialisable_extras():
    obj = json.loads(JsonLineFormatter().format(make_record(pairs={(1, 2): "x"})))
    assert obj["pairs"] == "{(1, 2): 'x'}"
    assert obj["message"] == "hello"


# --- rotation (the OPS-01 acceptance) -------------------------------------------------


def test_OPS_01_rotates_by_size_and_across_the_day_boundary_losing_nothing(tmp_path: Path):
    # 23:00 in New York on 8 March: the day turns after 60 one-minute steps
    clock = ManualClock(datetime(2024, 3, 9, 4, 0, tzinfo=timezone.utc))
    handler = RotatingJsonFileHandler(
        tmp_path, max_bytes=2_000, backups=1_000, tz="America/New_York", clock=clock
    )
    emit_numbered(handler, 120, clock)
    handler.close()

    files = handler.files()
    records = read_lines(files)
    assert [r["seq"] for r in records] == list(range(120))  # every record, in order
    assert all(path.stat().st_size <= 2_000 for path in files)
    assert len(files) > 4  # size rotation happened within each day
    days = {path.name.split(".")[1] for path in files}
    assert days == {"2024-03-08", "2024-03-09"}
    # the day boundary is a file boundary: no file holds both days
    for path in files:
        seqs = [r["seq"] for r in read_lines([path])]
        assert all(s < 60 for s in seqs) or all(s >= 60 for s in seqs)
        assert all(s < 60 for s in seqs) == ("2024-03-08" in path.name)


def test_OPS_01_a_day_of_23_hours_ends_at_its_own_midnight(tmp_path: Path):
    # New York springs forward on 10 March 2024: that day runs from 05:00 to 04:00 UTC
    clock = ManualClock(datetime(2024, 3, 10, 4, 30, tzinfo=timezone.utc))  # 9 Mar 23:30
    handler = RotatingJsonFileHandler(
        tmp_path, max_bytes=10_000, backups=10, tz=NEW_YORK, clock=clock
    )
    for hours, step in ((0, 1), (1, 22), (23, 1), (24, 0)):
        # 9 Mar 23:30, 10 Mar 00:30, 10 Mar 23:30 (EDT), 11 Mar 00:30
        handler.handle(make_record("at %d", (hours,), hours=hours))
        clock.advance(hours=step)
    handler.close()
    by_day = {path.name.split(".")[1]: read_lines([path]) for path in handler.files()}
    assert {day: [r["hours"] for r in lines] for day, lines in by_day.items()} == {
        "2024-03-09": [0],
        "2024-03-10": [1, 23],
        "2024-03-11": [24],
    }


def test_OPS_01_keeps_a_bounded_number_of_files_holding_the_newest_records(tmp_path: Path):
    clock = ManualClock(datetime(2024, 3, 9, 4, 0, tzinfo=timezone.utc))
    handler = RotatingJsonFileHandler(
        tmp_path, max_bytes=1_000, backups=2, tz=NEW_YORK, clock=clock
    )
    for day in range(3):  # three days, several files each
        emit_numbered(handler, 40, clock, step_s=10, first=40 * day)
        clock.advance(days=1)
    handler.handle(make_record("last", seq=120))
    handler.close()

    files = handler.files()
    assert len(files) == 3
    assert sorted(os.listdir(tmp_path)) == [path.name for path in files]
    seqs = [r["seq"] for r in read_lines(files)]
    assert seqs == list(range(seqs[0], 121))  # the newest records, contiguous, in order
    assert seqs[0] > 0


def test_a_restart_appends_to_todays_newest_file(tmp_path: Path):
    clock = ManualClock(datetime(2024, 3, 8, 15, 0, tzinfo=timezone.utc))
    first = RotatingJsonFileHandler(tmp_path, max_bytes=10_000, backups=3, clock=clock)
    first.handle(make_record(seq=0))
    first.close()
    assert first.current_path is None

    second = RotatingJsonFileHandler(tmp_path, max_bytes=10_000, backups=3, clock=clock)
    second.handle(make_record(seq=1))
    assert second.current_path == tmp_path / "ibguard.2024-03-08.0000.jsonl"
    second.close()
    assert [r["seq"] for r in read_lines(second.files())] == [0, 1]


def test_a_record_larger_than_the_cap_gets_a_file_of_its_own(tmp_path: Path):
    clock = ManualClock(datetime(2024, 3, 8, 15, 0, tzinfo=timezone.utc))
    handler = RotatingJsonFileHandler(tmp_path, max_bytes=200, backups=5, clock=clock)
    handler.handle(make_record(seq=0))
    handler.handle(make_record("x" * 500, seq=1))
    handler.handle(make_record(seq=2))
    handler.close()
    assert [[r["seq"] for r in read_lines([p])] for p in handler.files()] == [[0], [1], [2]]


def test_files_ignores_names_it_does_not_own(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "other.2024-03-08.0000.jsonl").write_text("x")
    (tmp_path / "ibguard.2024-03-08.0010.jsonl").write_text("")
    (tmp_path / "ibguard.2024-03-08.0009.jsonl").write_text("")
    handler = RotatingJsonFileHandler(tmp_path, max_bytes=100, backups=0)
    assert [p.name for p in handler.files()] == [
        "ibguard.2024-03-08.0009.jsonl",
        "ibguard.2024-03-08.0010.jsonl",
    ]


def test_a_broken_clock_goes_to_the_logging_error_report(tmp_path: Path, capsys):
    def broken_clock() -> datetime:
        raise RuntimeError("clock gone")

    handler = RotatingJsonFileHandler(tmp_path, max_bytes=1_000, backups=0, clock=broken_clock)
    handler.handle(make_record())  # must not raise
    assert "clock gone" in capsys.readouterr().err


def test_files_of_a_directory_not_made_yet_is_empty(tmp_path: Path):
    handler = RotatingJsonFileHandler(tmp_path / "later", max_bytes=1_000, backups=0)
    assert handler.files() == []


def test_clock_may_be_a_callable_and_naive_times_count_as_utc(tmp_path: Path):
    handler = RotatingJsonFileHandler(
        tmp_path,
        max_bytes=1_000,
        backups=1,
        tz="Asia/Tokyo",
        clock=lambda: datetime(2024, 3, 8, 16, 0),
    )
    handler.handle(make_record())
    handler.close()
    assert [p.name for p in handler.files()] == ["ibguard.2024-03-09.0000.jsonl"]


def test_default_clock_is_the_host_clock(tmp_path: Path):
    handler = RotatingJsonFileHandler(tmp_path, max_bytes=1_000, backups=1)
    handler.handle(make_record())
    handler.close()
    today = datetime.now(timezone.utc).date()
    assert handler.files()[0].name.split(".")[1] in {
        (today - timedelta(days=1)).isoformat(),
        today.isoformat(),
    }


def test_rejects_a_non_positive_cap_or_negative_backups(tmp_path: Path):
    with pytest.raises(UsageError, match="max_bytes"):
        RotatingJsonFileHandler(tmp_path, max_bytes=0, backups=1)
    with pytest.raises(UsageError, match="backups"):
        RotatingJsonFileHandler(tmp_path, max_bytes=10, backups=-1)


# --- failures: never crash, never lose a record ----------------------------------------


def test_OPS_01_unwritable_directory_reports_once_then_falls_back_and_retries(tmp_path: Path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the log directory's parent should be")
    directory = blocker / "logs"
    clock = ManualClock(datetime(2024, 3, 8, 15, 0, tzinfo=timezone.utc))
    fallback = io.StringIO()
    handler = RotatingJsonFileHandler(
        directory,
        max_bytes=1_000,
        backups=1,
        clock=clock,
        fallback=fallback,
        retry_after=timedelta(minutes=1),
    )
    handler.handle(make_record(seq=0))
    clock.advance(seconds=30)
    handler.handle(make_record(seq=1))  # still inside the retry pause
    clock.advance(seconds=60)
    handler.handle(make_record(seq=2))  # retried, still broken: no second notice

    lines = [json.loads(line) for line in fallback.getvalue().splitlines()]
    assert lines[0]["code"] == "LOG_FILE_UNWRITABLE"
    assert lines[0]["level"] == "ERROR"
    assert lines[0]["directory"] == str(directory)
    assert [line.get("seq") for line in lines[1:]] == [0, 1, 2]
    assert handler.current_path is None

    blocker.unlink()  # the operator fixes it
    clock.advance(seconds=61)
    handler.handle(make_record(seq=3))
    assert [r["seq"] for r in read_lines(handler.files())] == [3]
    assert len(fallback.getvalue().splitlines()) == 4

    # a later failure is a new episode and is reported again
    handler.close()
    directory.rename(tmp_path / "moved")
    blocker.rmdir()
    blocker.write_text("blocked again")
    clock.advance(days=1)
    handler.handle(make_record(seq=4))
    lines = [json.loads(line) for line in fallback.getvalue().splitlines()]
    assert [line["code"] for line in lines[4:]] == ["LOG_FILE_UNWRITABLE", None]
    assert lines[5]["seq"] == 4


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_OPS_01_disk_full_falls_back_to_stderr_with_the_record(tmp_path: Path, capsys):
    # a log file that is really /dev/full: every flush fails with ENOSPC
    (tmp_path / "ibguard.2024-03-08.0000.jsonl").symlink_to("/dev/full")
    clock = ManualClock(datetime(2024, 3, 8, 15, 0, tzinfo=timezone.utc))
    handler = RotatingJsonFileHandler(tmp_path, max_bytes=10_000, backups=1, clock=clock)
    handler.handle(make_record(seq=7))
    handler.close()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["code"] == "LOG_FILE_UNWRITABLE"
    assert "No space left" in lines[0]["error"]
    assert lines[1]["seq"] == 7


def test_a_dead_fallback_stream_is_survived(tmp_path: Path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    dead = io.StringIO()
    dead.close()
    handler = RotatingJsonFileHandler(blocker / "logs", max_bytes=10, backups=0, fallback=dead)
    handler.handle(make_record())  # must not raise


def test_bad_format_arguments_go_to_the_logging_error_report(tmp_path: Path, capsys):
    handler = RotatingJsonFileHandler(tmp_path, max_bytes=1_000, backups=0)
    handler.handle(make_record("%d", ("not a number",)))
    handler.close()
    assert "Logging error" in capsys.readouterr().err
    assert handler.files() == []


# --- installing it ----------------------------------------------------------------------


def test_configure_logging_installs_and_removes_the_handler(tmp_path: Path):
    clock = ManualClock(datetime(2024, 3, 8, 15, 0, tzinfo=timezone.utc))
    logger = logging.getLogger("ibguard.test_logfiles")
    logger.setLevel(logging.WARNING)
    installed = configure_logging(
        tmp_path,
        max_bytes=10_000,
        backups=2,
        tz="America/New_York",
        level=logging.DEBUG,
        clock=clock,
        logger_name="ibguard.test_logfiles",
    )
    assert installed.handler in logger.handlers
    assert logger.level == logging.DEBUG
    logging.getLogger("ibguard.test_logfiles.child").debug(
        "submitted", extra={"code": LogCode.ORDER_SUBMITTED, "oms_id": "A1"}
    )
    installed.remove()
    assert installed.handler not in logger.handlers
    assert logger.level == logging.WARNING
    (record,) = read_lines(installed.handler.files())
    assert record["code"] == "ORDER_SUBMITTED"
    assert record["oms_id"] == "A1"
    assert record["logger"] == "ibguard.test_logfiles.child"


def test_buffered_lines_reach_the_file_on_flush_and_none_is_lost(tmp_path: Path):
    handler = RotatingJsonFileHandler(tmp_path, max_bytes=10_000, backups=1, buffered=True)
    for n in range(3):
        handler.emit(logging.makeLogRecord({"msg": f"line {n}", "levelno": logging.INFO}))
    (path,) = handler.files()
    assert path.read_text() == ""  # still in the buffer: one write per batch, not per line
    handler.flush()
    assert [json.loads(line)["message"] for line in path.read_text().splitlines()] == [
        "line 0",
        "line 1",
        "line 2",
    ]
    handler.emit(logging.makeLogRecord({"msg": "last", "levelno": logging.INFO}))
    handler.close()  # closing flushes
    assert json.loads(path.read_text().splitlines()[-1])["message"] == "last"
    handler.flush()  # after close: nothing to write, no error


def test_lean_records_skip_the_caller_frame_inside_and_restore_it_after():
    from ibguard.engine.shell.logfiles import lean_log_records

    class Keep(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    logger = logging.getLogger("tests.lean")
    logger.propagate = False
    keep = Keep()
    logger.addHandler(keep)
    logger.setLevel(logging.INFO)
    try:
        with lean_log_records():
            logger.info("inside")
        logger.info("after")
    finally:
        logger.removeHandler(keep)
    inside, after = keep.records
    assert (inside.pathname, inside.threadName) == ("(unknown file)", None)  # no stack walk
    assert after.pathname == __file__
    assert after.threadName is not None


@pytest.mark.parametrize(
    ("extra", "quick"),
    [
        ({}, True),
        ({"code": LogCode.FILL_APPLIED, "oms_id": "o1", "shares": Decimal("1.50"), "n": 3}, True),
        (
            {"code": "PLAIN", "flag": True, "off": False, "none": None, "text": 'a "q" \\ é \n'},
            True,
        ),
        ({"code": LogCode.ALERT, "when": datetime(2026, 1, 2, tzinfo=timezone.utc)}, False),
        ({"ratio": 0.5, "ids": (1, 2)}, False),  # floats and containers: the general path
        ({"code": 7}, False),  # a code that is no LogCode nor text
    ],
)
def test_the_quick_line_is_exactly_the_general_line(extra: dict[str, object], quick: bool):
    from ibguard.engine.shell.logfiles import _simple_line

    fields = {"name": "ibguard.engine", "msg": "m %s", "args": ("é",), "levelno": 20}
    record = logging.makeLogRecord({**fields, **extra})
    record.levelname = "INFO"
    formatter = JsonLineFormatter()
    line = formatter.format(record)
    assert line == formatter._general_line(record)
    assert json.loads(line)["message"] == "m é"
    assert (_simple_line(record) is not None) is quick


def test_subclassed_times_and_durations_are_written_as_their_text(tmp_path: Path):
    class BrokerStamp(datetime):
        pass

    class Span(timedelta):
        pass

    record = logging.makeLogRecord(
        {"msg": "m", "at": BrokerStamp(2026, 1, 2, tzinfo=timezone.utc), "span": Span(seconds=2)}
    )
    line = json.loads(JsonLineFormatter().format(record))
    assert (line["at"], line["span"]) == ("2026-01-02T00:00:00+00:00", 2.0)


def test_a_buffer_that_cannot_reach_the_disk_falls_back_to_stderr(tmp_path: Path):
    fallback = io.StringIO()
    handler = RotatingJsonFileHandler(
        tmp_path, max_bytes=10_000, backups=1, buffered=True, fallback=fallback
    )
    handler.emit(logging.makeLogRecord({"msg": "kept", "levelno": logging.INFO}))

    class FullDisk(io.BytesIO):
        def flush(self) -> None:
            raise OSError(28, "No space left on device")

    handler._stream = FullDisk()
    handler.flush()
    assert "LOG_FILE_UNWRITABLE" in fallback.getvalue()
    handler.emit(logging.makeLogRecord({"msg": "after", "levelno": logging.INFO}))
    assert '"after"' in fallback.getvalue()  # nothing lost: stderr until the retry


# --- decision records written without a LogRecord ------------------------------------


def _decisions(tmp_path: Path, name: str, clock: object = None, *, buffered: bool = False):
    from ibguard.engine.decision_log import DecisionLog

    installed = configure_logging(
        tmp_path,
        max_bytes=100_000,
        backups=1,
        tz="UTC",
        level=logging.DEBUG,
        clock=clock,  # type: ignore[arg-type]
        logger_name=name,
        buffered=buffered,
    )
    # the file is the only destination, as in `ibguard engine run` (pytest listens at the root)
    installed.logger.propagate = False
    return installed, DecisionLog(logging.getLogger(f"{name}.engine"), None)


def _log_every_kind(log) -> None:
    log.info(
        LogCode.ORDER_STATUS, "broker reports the order filled", oms_id="o1", filled=Decimal("2.50")
    )
    log.info(
        LogCode.ORDER_STATUS, "broker reports the order filled", oms_id="o3", filled=Decimal(1)
    )
    log.debug(
        LogCode.FILL_APPLIED, "fill %s applied", name="reserved", level="dropped", n=3, none=None
    )
    log.warning(LogCode.BROKER_ERROR, 'text "é" \\ \n', flag=False)
    log.alert(LogCode.OVERFILL, "overfill", oms_id="o2")
    log.error(LogCode.ALERT, "a time", when=datetime(2026, 1, 2, tzinfo=timezone.utc))


def _without_time(path: Path) -> list[dict[str, object]]:
    lines = read_lines([path])
    for line in lines:
        assert datetime.fromisoformat(str(line.pop("time"))).tzinfo == timezone.utc
    return lines


@pytest.mark.parametrize("buffered", [False, True], ids=["flushed", "buffered"])
def test_decision_lines_written_directly_are_the_lines_logging_writes(
    tmp_path: Path, buffered: bool
):
    from ibguard.engine.decision_log import DecisionLog

    installed, log = _decisions(tmp_path / "direct", "ibguard.test_direct", buffered=buffered)
    direct = installed.handler.write_decision
    assert DecisionLog.direct_writer == direct
    assert direct(log._logger, logging.DEBUG, LogCode.FILL_APPLIED, "taken", {})
    _log_every_kind(log)
    via_logging, log = _decisions(
        tmp_path / "logging", "ibguard.test_via_logging", buffered=buffered
    )
    DecisionLog.direct_writer = None  # the same records through logging
    _log_every_kind(log)
    for each in (installed, via_logging):
        each.remove()
        each.logger.propagate = True
    (written_directly,) = installed.handler.files()
    (written_by_logging,) = via_logging.handler.files()
    direct_lines = _without_time(written_directly)[1:]
    assert [{**line, "logger": "?"} for line in direct_lines] == [
        {**line, "logger": "?"} for line in _without_time(written_by_logging)
    ]
    assert direct_lines[2] == {
        "level": "DEBUG",
        "logger": "ibguard.test_direct.engine",
        "code": "FILL_APPLIED",
        "message": "fill %s applied",
        "f_name": "reserved",
        "n": 3,
        "none": None,
    }
    assert len(direct_lines) == 6


def test_a_buffered_decision_line_that_spills_onto_a_full_disk_goes_to_stderr(tmp_path: Path):
    installed, log = _decisions(tmp_path, "ibguard.test_spill", buffered=True)
    fallback = io.StringIO()
    installed.handler._fallback = fallback
    log.info(LogCode.ORDER_STATUS, "first", oms_id="o1")  # opens today's file

    class FullDisk(io.BytesIO):
        def write(self, data: object) -> int:  # a full buffer written out, onto ENOSPC
            raise OSError(28, "No space left on device")

    installed.handler._stream = FullDisk()
    log.info(LogCode.ORDER_STATUS, "second", oms_id="o2")
    installed.remove()
    installed.logger.propagate = True
    lines = [json.loads(line) for line in fallback.getvalue().splitlines()]
    assert [line["code"] for line in lines] == ["LOG_FILE_UNWRITABLE", "ORDER_STATUS"]
    assert (lines[1]["message"], lines[1]["oms_id"]) == ("second", "o2")  # not lost


def test_a_decision_line_has_the_record_time_text_of_now():
    from ibguard.engine.shell.record_time import RecordTime

    text = RecordTime().text_ns
    assert text(1_700_000_000_000_000_000) == "2023-11-14T22:13:20+00:00"
    assert text(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456+00:00"
    assert text(1_700_000_001_000_000_999) == "2023-11-14T22:13:21+00:00"


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _another_listener(handler: logging.Handler, logger: logging.Logger) -> object:
    keep = _Keep()
    logger.addHandler(keep)
    return lambda: logger.removeHandler(keep)


def _a_handler_filter(handler: logging.Handler, logger: logging.Logger) -> object:
    handler.addFilter(lambda record: True)
    return lambda: None


def _a_logger_filter(handler: logging.Handler, logger: logging.Logger) -> object:
    logger.addFilter(lambda record: True)
    return lambda: None


def _another_formatter(handler: logging.Handler, logger: logging.Logger) -> object:
    handler.setFormatter(logging.Formatter("%(message)s"))
    return lambda: None


def _a_record_factory(handler: logging.Handler, logger: logging.Logger) -> object:
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_OwnRecord)
    return lambda: logging.setLogRecordFactory(factory)


class _OwnRecord(logging.LogRecord):
    """A record factory of the application's: its records must be made."""


def _twice_in_the_chain(handler: logging.Handler, logger: logging.Logger) -> object:
    logger.addHandler(handler)
    return lambda: logger.removeHandler(handler)


def _handler_level_above(handler: logging.Handler, logger: logging.Logger) -> object:
    handler.setLevel(logging.WARNING)
    return lambda: None


def _not_below_the_handler(handler: logging.Handler, logger: logging.Logger) -> object:
    logger.propagate = False
    return lambda: setattr(logger, "propagate", True)


@pytest.mark.parametrize(
    "change",
    [
        _another_listener,
        _a_handler_filter,
        _a_logger_filter,
        _another_formatter,
        _a_record_factory,
        _twice_in_the_chain,
        _handler_level_above,
        _not_below_the_handler,
    ],
)
def test_decisions_go_through_logging_when_the_file_is_not_their_only_plain_destination(
    tmp_path: Path, change
):
    installed, log = _decisions(tmp_path, "ibguard.test_direct")
    engine_logger = logging.getLogger("ibguard.test_direct.engine")
    undo = change(installed.handler, engine_logger)
    try:
        assert not installed.handler.write_decision(
            engine_logger, logging.INFO, LogCode.ORDER_STATUS, "m", {}
        )
        log.info(LogCode.ORDER_STATUS, "through logging", oms_id="o1")
    finally:
        undo()  # type: ignore[operator]
        installed.remove()
        installed.logger.propagate = True
        engine_logger.filters.clear()
    assert (
        installed.handler.write_decision(engine_logger, logging.INFO, LogCode.ALERT, "m", {})
        is False
    )


def test_a_decision_field_named_code_is_left_to_logging(tmp_path: Path):
    # it would replace the record's code (DecisionLog's own signature never passes one)
    installed, log = _decisions(tmp_path, "ibguard.test_direct")
    try:
        assert not installed.handler.write_decision(
            log._logger, logging.INFO, LogCode.ORDER_STATUS, "m", {"code": "other"}
        )
    finally:
        installed.remove()
        installed.logger.propagate = True


def test_a_disabled_logger_is_never_written_directly(tmp_path: Path):
    installed, _log = _decisions(tmp_path, "ibguard.test_direct")
    engine_logger = logging.getLogger("ibguard.test_direct.engine")
    engine_logger.disabled = True
    try:
        assert not installed.handler.write_decision(
            engine_logger, logging.INFO, LogCode.ALERT, "m", {}
        )
    finally:
        engine_logger.disabled = False
        installed.remove()
        installed.logger.propagate = True


def test_removing_older_logging_keeps_the_newer_direct_writer(tmp_path: Path):
    from ibguard.engine.decision_log import DecisionLog

    older, _ = _decisions(tmp_path / "older", "ibguard.test_direct_older")
    newer, _ = _decisions(tmp_path / "newer", "ibguard.test_direct_newer")
    older.remove()
    assert DecisionLog.direct_writer == newer.handler.write_decision
    newer.remove()
    assert DecisionLog.direct_writer is None
    older.logger.propagate = newer.logger.propagate = True


def test_a_broken_clock_under_a_direct_decision_goes_to_the_logging_error_report(
    tmp_path: Path, capsys
):
    def broken_clock() -> datetime:
        raise RuntimeError("clock gone")

    installed, log = _decisions(tmp_path, "ibguard.test_direct", clock=broken_clock)
    try:
        log.info(LogCode.ORDER_STATUS, "filled", oms_id="o1")  # must not raise
    finally:
        installed.remove()
        installed.logger.propagate = True
    assert "clock gone" in capsys.readouterr().err


def test_decision_lines_stay_right_once_no_more_texts_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from ibguard.engine.shell import logfiles

    monkeypatch.setattr(logfiles, "_TEXTS_KEPT", 0)
    installed, log = _decisions(tmp_path, "ibguard.test_direct")
    try:
        log.info(LogCode.ORDER_STATUS, "filled, never seen before", never_seen_key="o1")
        log._logger.info("through logging", extra={"code": LogCode.ALERT, "unseen": 2})
        # a code that is no text cannot be written directly: logging writes it
        assert not installed.handler.write_decision(
            log._logger,
            logging.INFO,
            7,  # type: ignore[arg-type]
            "m",
            {},
        )
    finally:
        installed.remove()
        installed.logger.propagate = True
    line, through_logging = _without_time(installed.handler.files()[0])
    assert line["never_seen_key"] == "o1"
    assert line["message"] == "filled, never seen before"
    assert through_logging["unseen"] == 2


def test_on_the_host_clock_decisions_start_the_next_days_file_at_midnight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from ibguard.engine.shell import logfiles

    # lines within the open file's day skip the datetime: the host clock read as time_ns
    # must still move them to the next day's file, in the configured zone
    midnight = datetime(2026, 3, 9, 4, 0, tzinfo=timezone.utc)  # New York's midnight
    host = [midnight - timedelta(seconds=2)]

    class HostTime(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return host[0]

    monkeypatch.setattr(logfiles, "datetime", HostTime)
    monkeypatch.setattr(
        logfiles, "time_ns", lambda: (host[0] - logfiles._EPOCH) // timedelta(microseconds=1) * 1000
    )
    installed, log = _decisions(tmp_path, "ibguard.test_host_clock")
    installed.handler.zone = NEW_YORK
    try:
        for step in (0, 1, 2, 3):  # 23:59:58 and :59 on the 8th, 00:00:00 and :01 on the 9th
            host[0] = midnight + timedelta(seconds=step - 2)
            log.info(LogCode.ORDER_STATUS, "filled", oms_id=f"o{step}")
    finally:
        installed.remove()
        installed.logger.propagate = True
    files = installed.handler.files()
    assert [path.name.split(".")[1] for path in files] == ["2026-03-08", "2026-03-09"]
    assert [[line["oms_id"] for line in read_lines([path])] for path in files] == [
        ["o0", "o1"],
        ["o2", "o3"],
    ]
