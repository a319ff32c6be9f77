"""`ibguard gateway` as a user runs it: a subprocess on 127.0.0.1, an unmodified client
trading against it, SIGINT/SIGTERM stopping it cleanly; bad flags and scripts exit 2 with one
line; the script format parses every documented key and reports every problem at once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from ibguard.engine.errors import ConfigError
from ibguard.kit.cli import main
from ibguard.kit.gateway.script_file import parse_script
from ibguard.kit.gateway.wire_faults import WireFaults
from ibguard.kit.sim import (
    DropConnection,
    FillPlan,
    HaltMode,
    LateFillOnCancel,
    RefuseCancel,
    RejectOrder,
    SimBroker,
)

from tests.support.scenarios import run

ib_async = pytest.importorskip("ib_async")

SCRIPT = """
[account]
accounts = ["DU777", "DU888"]
rate_limit_per_second = 40
skew_seconds = -30
default_price = "50"
commission_per_share = "0.01"

[prices]
AAPL = "187.25"
MSFT = 410

[[halt]]
symbol = "TSLA"
mode = "no_fill"

[[broker_fault]]
kind = "reject"
code = 203
text = "The security is not available"
symbol = "GME"

[[broker_fault]]
kind = "fill"
fills = [["30", "100.10"], ["20", "100.20"]]
symbol = "IBM"

[[wire_fault]]
kind = "delay"
seconds = 0.2
message_id = 11

[[wire_fault]]
kind = "duplicate"
messages = 2
"""


@contextmanager
def gateway_process(*flags: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ibguard.kit.cli", "gateway", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert match, line + proc.stderr.read() if proc.stderr else line
        yield proc, int(match.group(1))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_standalone_gateway_trades_and_stops_cleanly_on_sigint() -> None:
    with gateway_process("--account", "DU42") as (proc, port):

        async def scenario() -> None:
            ib = ib_async.IB()
            await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=4)
            assert ib.managedAccounts() == ["DU42"]
            now = await ib.reqCurrentTimeAsync()
            assert abs(now - datetime.now(timezone.utc)) < timedelta(seconds=5)
            stock = ib_async.Stock("AAPL", "SMART", "USD")
            market = ib.placeOrder(stock, ib_async.MarketOrder("BUY", 10))
            resting = ib.placeOrder(stock, ib_async.LimitOrder("BUY", 10, 90))
            marketable = ib.placeOrder(stock, ib_async.LimitOrder("SELL", 5, 90))
            while not (market.isDone() and marketable.isDone()):
                await asyncio.sleep(0.01)
            assert resting.orderStatus.status == "Submitted"
            assert [p.position for p in ib.positions()] == [5]
            ib.disconnect()

        run(scenario)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "stopped" in out


def test_sigterm_stops_it_too_with_a_client_still_connected() -> None:
    with gateway_process() as (proc, port):

        async def scenario() -> None:
            ib = ib_async.IB()
            await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=4)
            proc.send_signal(signal.SIGTERM)
            for _ in range(200):
                if not ib.isConnected():
                    break
                await asyncio.sleep(0.01)
            assert not ib.isConnected()

        run(scenario)
        proc.wait(10)
    assert proc.returncode == 0


def test_script_prices_reach_the_client(tmp_path: Path) -> None:
    script = tmp_path / "case.toml"
    script.write_text('[prices]\nAAPL = "187.25"\n')
    with gateway_process("--script", str(script)) as (proc, port):

        async def scenario() -> float:
            ib = ib_async.IB()
            await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=4)
            trade = ib.placeOrder(
                ib_async.Stock("AAPL", "SMART", "USD"), ib_async.MarketOrder("BUY", 1)
            )
            while not trade.isDone():
                await asyncio.sleep(0.01)
            ib.disconnect()
            price: float = trade.orderStatus.avgFillPrice
            return price

        assert run(scenario) == 187.25
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)


def test_bad_script_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "bad.toml"
    script.write_text('[prices]\nAAPL = "cheap"\n[[wire_fault]]\nkind = "teleport"\n')
    assert main(["gateway", "--script", str(script)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "AAPL" in err
    assert "teleport" in err


def test_missing_script_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gateway", "--script", str(tmp_path / "nope.toml")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_bad_flag_exits_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["gateway", "--port", "70000"])
    assert exit_info.value.code == 2


def test_port_in_use_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["gateway", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert str(port) in err


def test_script_format_parses_every_documented_table() -> None:
    script = parse_script(SCRIPT)
    assert script.accounts == ("DU777", "DU888")
    assert (script.rate_limit_per_second, script.skew_seconds) == (40, -30.0)
    assert (script.default_price, script.commission_per_share) == (Decimal(50), Decimal("0.01"))
    assert script.prices == (("AAPL", Decimal("187.25")), ("MSFT", Decimal(410)))
    assert script.halts == (("TSLA", HaltMode.NO_FILL),)
    assert script.broker_faults == (
        RejectOrder(code=203, text="The security is not available", symbol="GME"),
        FillPlan(
            fills=((Decimal(30), Decimal("100.10")), (Decimal(20), Decimal("100.20"))),
            symbol="IBM",
        ),
    )
    broker, faults = SimBroker(), WireFaults()
    script.apply(broker, faults)
    assert broker.contracts.resolve("AAPL").price == Decimal("187.25")  # type: ignore[union-attr]
    assert len(broker.script.pending) == 2
    assert faults.pending == 2


def test_script_errors_are_all_reported_together() -> None:
    bad = """
    colour = "red"
    [account]
    accounts = []
    rate_limit_per_second = 0
    [[halt]]
    mode = "sideways"
    [[broker_fault]]
    kind = "fill"
    fills = [["x", "1"]]
    [[wire_fault]]
    kind = "delay"
    seconds = 99
    """
    with pytest.raises(ConfigError) as info:
        parse_script(bad, source="case.toml")
    assert len(info.value.errors) == 6
    assert str(info.value).startswith("case.toml: ")


BAD_SCRIPTS = {
    "prices not a table": "prices = 5\n",
    "prices an array": 'prices = ["AAPL"]\n',
    "skew beyond a date": "[account]\nskew_seconds = 1e20\n",
    "skew beyond a date, negative": "[account]\nskew_seconds = -1e20\n",
    "price beyond any number": '[prices]\nAAPL = "1e999999"\n',
    "price not positive": "[prices]\nAAPL = -1\n",
    "blank symbol": '[prices]\n" " = 1\n',
    "default price zero": '[account]\ndefault_price = "0"\n',
    "negative commission": "[account]\ncommission_per_share = -0.01\n",
    "unhashable broker kind": "[[broker_fault]]\nkind = [1]\n",
    "unhashable wire kind": "[[wire_fault]]\nkind = {a = 1}\n",
    "newline in a key": '[prices]\n"A\\nB" = "x"\n',
}


@pytest.mark.parametrize("text", BAD_SCRIPTS.values(), ids=BAD_SCRIPTS.keys())
def test_every_bad_script_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_script(text, source="case.toml")
    assert len(info.value.errors) == 1


@pytest.mark.parametrize("text", BAD_SCRIPTS.values(), ids=BAD_SCRIPTS.keys())
def test_every_bad_script_exits_2_with_one_line(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "bad.toml"
    script.write_text(text, encoding="utf-8")
    assert main(["gateway", "--script", str(script)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_script_that_is_not_utf8_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "latin1.toml"
    script.write_bytes('[prices]\nAAPL = "1"  # café\n'.encode("latin-1"))
    assert main(["gateway", "--script", str(script)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_directory_as_script_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gateway", "--script", str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_problems_in_every_table_are_reported_together() -> None:
    bad = """
    prices = 5
    [account]
    skew_seconds = 1e20
    default_price = "-3"
    [[broker_fault]]
    kind = [1]
    """
    with pytest.raises(ConfigError) as info:
        parse_script(bad)
    assert len(info.value.errors) == 4


def test_skew_within_a_year_is_accepted() -> None:
    assert parse_script("[account]\nskew_seconds = -86400\n").skew_seconds == -86400.0


BAD_FAULTS = {
    "reject code a string": '[[broker_fault]]\nkind = "reject"\ncode = "abc"\n',
    "reject code zero": '[[broker_fault]]\nkind = "reject"\ncode = 0\n',
    "reject text a number": '[[broker_fault]]\nkind = "reject"\ntext = 5\n',
    "fill symbol a number": '[[broker_fault]]\nkind = "fill"\nfills = [["1", "2"]]\nsymbol = 3\n',
    "fill flag a string": (
        '[[broker_fault]]\nkind = "fill"\nfills = [["1", "2"]]\nduplicate_last = "yes"\n'
    ),
    "fill without fills": '[[broker_fault]]\nkind = "fill"\n',
    "fill shares negative": '[[broker_fault]]\nkind = "fill"\nfills = [["-1", "2"]]\n',
    "times zero": '[[broker_fault]]\nkind = "reject"\ntimes = 0\n',
    "times a float": '[[broker_fault]]\nkind = "reject"\ntimes = 1.5\n',
    "times a flag": '[[broker_fault]]\nkind = "reject"\ntimes = true\n',
    "drop received a string": '[[broker_fault]]\nkind = "drop"\nreceived = "no"\n',
    "drop client_id a string": '[[broker_fault]]\nkind = "drop"\nclient_id = "1"\n',
    "refuse price not a number": '[[broker_fault]]\nkind = "refuse_cancel"\nprice = "cheap"\n',
    "late fill missing price": '[[broker_fault]]\nkind = "late_fill_on_cancel"\nshares = 5\n',
    "late fill seconds_before a string": (
        '[[broker_fault]]\nkind = "late_fill_on_cancel"\nshares = 5\nprice = 1\n'
        'seconds_before = "1"\n'
    ),
    "wire client_id a string": '[[wire_fault]]\nkind = "reorder"\nclient_id = "7"\n',
    "wire message_id a float": '[[wire_fault]]\nkind = "reorder"\nmessage_id = 1.5\n',
    "wire messages a flag": '[[wire_fault]]\nkind = "duplicate"\nmessages = true\n',
    "wire messages a string": '[[wire_fault]]\nkind = "drop_after"\nmessages = "3"\n',
    "wire seconds a string": '[[wire_fault]]\nkind = "delay"\nseconds = "soon"\n',
}


@pytest.mark.parametrize("text", BAD_FAULTS.values(), ids=BAD_FAULTS.keys())
def test_a_fault_field_of_the_wrong_type_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_script(text)
    assert len(info.value.errors) == 1


def test_bad_fault_fields_exit_2_all_reported_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "bad.toml"
    script.write_text("".join(BAD_FAULTS.values()))
    with pytest.raises(ConfigError) as info:
        parse_script(script.read_text())
    assert len(info.value.errors) == len(BAD_FAULTS)
    assert main(["gateway", "--script", str(script)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_every_fault_field_of_the_right_type_is_armed_as_given() -> None:
    script = parse_script(
        """
        [[broker_fault]]
        kind = "reject"
        code = 203
        text = "no"
        symbol = "GME"
        times = 2
        [[broker_fault]]
        kind = "fill"
        fills = [[30, 100.5]]
        duplicate_last = true
        exec_before_status = true
        symbol = "IBM"
        [[broker_fault]]
        kind = "drop"
        received = false
        client_id = 0
        [[broker_fault]]
        kind = "refuse_cancel"
        price = "10.5"
        [[broker_fault]]
        kind = "late_fill_on_cancel"
        shares = "5"
        price = "9"
        seconds_before = 0
        [[wire_fault]]
        kind = "delay"
        seconds = 0.5
        messages = 2
        client_id = 3
        message_id = 9
        """
    )
    assert script.broker_faults == (
        RejectOrder(code=203, text="no", symbol="GME", times=2),
        FillPlan(
            fills=((Decimal(30), Decimal("100.5")),),
            duplicate_last=True,
            exec_before_status=True,
            symbol="IBM",
        ),
        DropConnection(received=False, client_id=0),
        RefuseCancel(price=Decimal("10.5")),
        LateFillOnCancel(shares=Decimal(5), price=Decimal(9), seconds_before=0),
    )
    faults = WireFaults()
    script.apply(SimBroker(), faults)
    assert faults.pending == 1
