"""`ibguard engine run`: a runnable service that starts, serves, journals and stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from ibguard.engine.events import ExecutionReport
from ibguard.engine.model import Instrument, Side
from ibguard.engine.shell.event_codec import encode_event
from ibguard.engine.shell.journal import SqliteJournal
from ibguard.kit.cli import main


def _codes(log_dir: Path) -> list[str]:
    return [
        json.loads(line).get("code") or ""
        for path in sorted(log_dir.glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def _engine_process(*flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ibguard.kit.cli", "engine", "run", "--account", "DU1", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on: the broker is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_sim(logs: Path, journal: Path, stop_after: str) -> int:
    command = ["engine", "run", "--broker", "sim", "--account", "DU1", "--health-port", "0"]
    return main(
        [*command, "--log-dir", str(logs), "--journal", str(journal), "--stop-after", stop_after]
    )


def test_engine_run_against_the_simulated_broker_connects_reconciles_and_stops(
    tmp_path: Path,
) -> None:
    logs, journal = tmp_path / "logs", tmp_path / "j.sqlite"
    assert _run_sim(logs, journal, "0.5") == 0
    codes = _codes(logs)
    for expected in ("CONNECTION_RESTORED", "RECONCILE_DONE", "SERVICE_STARTED", "SERVICE_STOPPED"):
        assert expected in codes
    # the journal holds what the engine handled; a second run replays it
    assert _run_sim(logs, journal, "0.2") == 0
    replayed = [
        json.loads(line) for p in logs.glob("*.jsonl") for line in p.read_text().splitlines()
    ]
    counts = [r["events"] for r in replayed if r.get("code") == "JOURNAL_REPLAYED"]
    assert counts[0] == 0
    assert counts[-1] > 0


def test_engine_run_with_bad_settings_exits_2_naming_every_problem(capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["engine", "run", "--broker", "nope", "--client-id", "x", "--account", "DU1"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--broker" in err[0]
    assert "--client-id" in err[0]


def _stops_on_sigterm_once(logs: Path, ready: Callable[[list[str]], bool], *flags: str) -> None:
    """Start `engine run`, wait until its log codes satisfy `ready`, SIGTERM it: exit 0."""
    process = _engine_process("--health-port", "0", "--log-dir", str(logs), *flags)
    try:
        deadline = time.monotonic() + 30
        while not ready(_codes(logs) if logs.exists() else []):
            assert time.monotonic() < deadline, "service did not get ready"
            assert process.poll() is None, "service exited early"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "SERVICE_STOPPED" in _codes(logs)


def test_engine_run_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    _stops_on_sigterm_once(tmp_path / "logs", lambda codes: "SERVICE_STARTED" in codes)


def test_engine_run_with_a_corrupt_journal_exits_2_in_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    journal = tmp_path / "book.sqlite"
    journal.write_bytes(b"this is not a database" * 100)
    code = _run_sim(tmp_path / "l", journal, "0.1")
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "journal" in err[0]


def test_a_busy_health_port_is_one_line_and_exit_2_while_the_broker_is_down(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = str(taken.getsockname()[1])
        process = _engine_process(
            "--broker", "ib", "--port", str(_closed_port()), "--health-port", busy,
            "--log-dir", str(tmp_path / "logs"), "--journal", str(tmp_path / "j.sqlite"),
        )  # fmt: skip
        try:
            _out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert busy in lines[0]
    assert "--health-port" in lines[0]


def test_sigterm_stops_the_service_while_it_retries_a_broker_that_is_down(
    tmp_path: Path,
) -> None:
    # two failed connects: a retry is under way when the signal comes
    _stops_on_sigterm_once(
        tmp_path / "logs",
        lambda codes: codes.count("CONNECTION_LOST") >= 2,
        "--broker", "ib", "--port", str(_closed_port()),
    )  # fmt: skip


def _one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _sim(tmp_path: Path, *flags: str) -> list[str]:
    return [
        "engine", "run", "--broker", "sim", "--account", "DU1", "--health-port", "0",
        "--log-dir", str(tmp_path / "logs"), "--stop-after", "5", *flags,
    ]  # fmt: skip


def test_an_unresolvable_health_host_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _one_line_exit_2(_sim(tmp_path, "--health-host", "no-such-host.invalid"), capsys)
    assert "--health-host" in line
    assert "CONFIG_ERROR" in _codes(tmp_path / "logs")  # the service's log says why, too


def test_a_config_file_that_is_not_utf8_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "engine.toml"
    config.write_bytes(b'[engine]\naccount = "DU\xff\xfe1"\n')
    line = _one_line_exit_2(["engine", "run", "--config", str(config)], capsys)
    assert "UTF-8" in line


def test_an_absurd_stale_threshold_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "engine.toml"
    config.write_text('[engine]\naccount = "DU1"\nstale_after_seconds = 1e300\n')
    line = _one_line_exit_2(["engine", "run", "--config", str(config)], capsys)
    assert "stale_after_seconds" in line


def _journal_holding(path: Path, body: str) -> Path:
    SqliteJournal(path).close()  # a real, empty journal
    with closing(sqlite3.connect(path)) as db, db:  # closed: a service holds it alone
        db.execute("INSERT INTO events (kind, body) VALUES ('ExecutionReport', ?)", (body,))
    return path


def _execution_row(shares: str) -> str:
    fill = ExecutionReport(
        exec_id="0001.01",
        order_id=1,
        client_id=0,
        perm_id=5,
        order_ref="ibg:a",
        instrument=Instrument(symbol="AAPL"),
        side=Side.BUY,
        shares=Decimal(1),
        price=Decimal("100.5"),
        time=datetime(2026, 11, 24, 15, tzinfo=timezone.utc),
        account="DU1",
    )
    return encode_event(fill).replace('"BUY","1"', f'"BUY","{shares}"')


def _execution_row_v1(shares: str) -> str:
    """The same fill as a row of journal format 1 (ibguard before format 2)."""
    number = '{"__decimal__":"%s"}'
    instrument = (
        '{"__type__":"Instrument","symbol":"AAPL","con_id":0,"sec_type":"STK",'
        '"exchange":"SMART","currency":"USD"}'
    )
    return (
        '{"v":1,"event":{"__type__":"ExecutionReport","exec_id":"0001.01","order_id":1,'
        f'"client_id":0,"perm_id":5,"order_ref":"ibg:a","instrument":{instrument},'
        '"side":{"__enum__":"Side","value":"BUY"},'
        f'"shares":{number % shares},"price":{number % "100.5"},'
        '"time":{"__datetime__":"2026-11-24T15:00:00+00:00"},"account":"DU1"}}'
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_execution_row("1e999999999"), id="shares-1e999999999"),
        pytest.param(_execution_row("NaN"), id="shares-NaN"),
        pytest.param(_execution_row_v1("1e999999999"), id="format-1-shares-1e999999999"),
        pytest.param('{"v":1,"event":' + "[" * 100_000 + "]" * 100_000 + "}", id="100k-deep"),
        pytest.param("{" * 100_000, id="100k-open-braces"),
    ],
)
def test_a_journal_row_no_engine_wrote_is_one_line_and_exit_2(
    tmp_path: Path, body: str, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = _journal_holding(tmp_path / "book.sqlite", body)
    line = _one_line_exit_2(_sim(tmp_path, "--journal", str(journal)), capsys)
    assert "journal" in line
    assert "row 1" in line


@pytest.mark.parametrize("row", [_execution_row("1"), _execution_row_v1("1")])
def test_the_row_with_a_normal_fill_replays_in_either_format(tmp_path: Path, row: str) -> None:
    journal = _journal_holding(tmp_path / "book.sqlite", row)
    assert main(_sim(tmp_path, "--journal", str(journal), "--stop-after", "0.1")) == 0


@pytest.mark.parametrize("damage", ["empty-file", "dropped-table", "other-database"])
def test_a_damaged_journal_never_starts_an_empty_book(
    tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "book.sqlite"
    if damage == "empty-file":
        journal.write_bytes(b"")
    elif damage == "dropped-table":
        _journal_holding(journal, _execution_row("1"))
        with closing(sqlite3.connect(journal)) as db, db:
            db.execute("DROP TABLE events")
    else:
        with closing(sqlite3.connect(journal)) as db, db:
            db.execute("CREATE TABLE orders (id INTEGER)")
    line = _one_line_exit_2(_sim(tmp_path, "--journal", str(journal)), capsys)
    assert "journal" in line
    assert journal.exists()  # left as found, for the operator to inspect
    assert not (tmp_path / "logs").exists() or "SERVICE_STARTED" not in _codes(tmp_path / "logs")


def test_an_absent_journal_is_a_fresh_start_and_nothing_half_made_stays_behind(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "new" / "book.sqlite"
    journal.parent.mkdir()
    assert main(_sim(tmp_path, "--journal", str(journal), "--stop-after", "0.1")) == 0
    assert len(SqliteJournal(journal)) > 0
    assert sorted(p.name for p in journal.parent.iterdir() if not p.name.startswith("book")) == []


def test_a_journal_another_service_has_open_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ibguard.engine.shell import journal as journal_module

    monkeypatch.setattr(journal_module, "_LOCK_WAIT", 0.01)
    held = SqliteJournal(tmp_path / "book.sqlite")  # as a running service holds it
    try:
        line = _one_line_exit_2(_sim(tmp_path, "--journal", str(tmp_path / "book.sqlite")), capsys)
    finally:
        held.close()
    assert "in use by another process" in line
    assert "CONFIG_ERROR" in _codes(tmp_path / "logs")
