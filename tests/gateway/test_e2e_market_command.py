"""`ibguard gateway` as the paper TWS a user starts: real instruments and streaming quotes over
a subprocess on loopback, a user's instrument file, and one-line exit 2 for a bad one."""

from __future__ import annotations

import asyncio
import math
import signal
from pathlib import Path

import ib_async
import pytest
from ibguard.kit.cli import main

from tests.support.scenarios import run

from .test_command_gateway import gateway_process

EXTRA = """
[[instrument]]
symbol = "SAP"
sec_type = "STK"
con_id = 14204
exchange = "SMART"
primary_exchange = "IBIS"
currency = "EUR"
long_name = "SAP SE"
time_zone_id = "Europe/Berlin"
trading_hours = ["0000-2359 MO-SU"]
price = { start = "139.00" }
"""


def test_the_gateway_lists_real_and_user_instruments_and_streams_quotes(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text(EXTRA)
    with gateway_process("--instruments", str(extra)) as (proc, port):

        async def scenario() -> tuple[int, int, float, float, list[int]]:
            ib = ib_async.IB()
            errors: list[int] = []
            ib.errorEvent += lambda req_id, code, *rest: errors.append(code)
            await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=4)
            (aapl,) = await ib.qualifyContractsAsync(ib_async.Stock("AAPL", "SMART", "USD"))
            (sap,) = await ib.qualifyContractsAsync(ib_async.Stock("SAP", "SMART", "EUR"))
            ticker = ib.reqMktData(sap)
            while math.isnan(ticker.bid) or math.isnan(ticker.ask):
                await asyncio.sleep(0.01)
            await ib.qualifyContractsAsync(ib_async.Stock("NOPE", "SMART", "USD"))
            await asyncio.sleep(0.1)
            ib.disconnect()
            return aapl.conId, sap.conId, ticker.bid, ticker.ask, errors

        aapl, sap, bid, ask, errors = run(scenario)
        assert (aapl, sap) == (265598, 14204)
        assert 0 < bid < ask
        assert 200 in errors  # a made-up symbol does not exist on the paper TWS
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)


@pytest.mark.parametrize("content", ["[[instrument]]\nsymbol = 3\n", "not toml ["])
def test_a_bad_instrument_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(content)
    assert main(["gateway", "--port", "0", "--instruments", str(bad)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert str(bad) in err


def test_a_script_arms_a_pacing_violation_for_history() -> None:
    from ibguard.kit.gateway.script_file import parse_script
    from ibguard.kit.sim.script import PacingViolation

    script = parse_script(
        '[[broker_fault]]\nkind = "pacing_violation"\nsymbol = "AAPL"\ntimes = 2\n'
    )
    assert script.broker_faults == (PacingViolation(symbol="AAPL", times=2),)


def test_help_lists_every_market_request_served(capsys: pytest.CaptureFixture[str]) -> None:
    from ibguard.kit.gateway import inbound_market

    with pytest.raises(SystemExit):
        main(["gateway", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    served = [n for n in inbound_market.__all__ if n.startswith("Req")]
    for name in served:
        assert name[0].lower() + name[1:] in shown, name
    assert "not served:" in shown
