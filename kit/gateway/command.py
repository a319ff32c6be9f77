"""`ibguard gateway`: run the fake TWS gateway on 127.0.0.1 for manual testing.

Owns the command line: flags, loading the script, building a SimBroker whose virtual clock
follows real time, serving until SIGINT/SIGTERM, and the one-line errors (exit 2 for a bad
flag, script or address). Without a script it is a quiet paper account: market orders fill at
once in full at the symbol's simulated price, limit orders fill when marketable and otherwise
rest until cancelled. The script format is documented in `script_file.py`. The parser is
built for every `ibguard` command, so the gateway itself is imported only inside `run()`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibguard.kit.gateway.script_file import GatewayScript
    from ibguard.kit.gateway.server import Gateway
    from ibguard.kit.sim.broker import SimBroker

__all__ = ["DEFAULT_PORT", "SERVED", "configure", "run"]

DEFAULT_PORT = 7497  # TWS paper trading
_LOOPBACK = "127.0.0.1"


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {raw!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, got {port}")
    return port


SERVED = """\
served (TWS API, server versions 157-178):
  session: handshake, startApi, nextValidId, managedAccounts, reqCurrentTime, reqIds
  orders: placeOrder (modify by orderId), cancelOrder, reqGlobalCancel, what-if,
    open/completed orders, executions and commissions
  account: positions, reqAccountUpdates(Multi), reqAccountSummary, reqPnL, reqPnLSingle
  instruments: reqContractDetails (IB's identifiers; unknown = error 200),
    reqMatchingSymbols, reqSecDefOptParams, reqMarketRule
  market data: reqMarketDataType 1-4, reqMktData (stream, snapshot, option greeks),
    reqTickByTickData, reqRealTimeBars (5 s)
  history: reqHistoricalData (keepUpToDate), reqHeadTimeStamp, reqHistoricalTicks
not served: every other request (market depth, scanners, news, fundamentals, option
  calculations, exerciseOptions, reqPositionsMulti, histograms, combo quotes, FA, WSH,
  user info); such a request is answered with error 321 ("... is not served by the
  ibguard paper TWS", for its request id) and logged at WARNING with its name; their
  cancels are logged only
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = SERVED
    parser.add_argument("--host", default=_LOOPBACK, help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port (default %(default)s; 0: any free)"
    )
    parser.add_argument(
        "--account", help="managed account(s), comma separated (default DU1234567 or the script's)"
    )
    parser.add_argument(
        "--script", type=Path, metavar="FILE", help="TOML file of prices, halts and faults"
    )
    parser.add_argument(
        "--instruments",
        type=Path,
        metavar="FILE",
        action="append",
        help="TOML/JSON file of instruments added to the built-in catalog (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every session")


def _fail(message: str) -> int:
    line = " ".join(message.splitlines())  # one line, whatever a value in it holds
    sys.stderr.write(f"ibguard gateway: error: {line}\n")
    return 2


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from ibguard.errors import ConfigError
    from ibguard.kit.gateway.logcodes import GatewayLogCode
    from ibguard.kit.gateway.script_file import GatewayScript, load_script
    from ibguard.kit.gateway.server import Gateway

    try:
        script = load_script(args.script) if args.script else GatewayScript()
    except ConfigError as exc:
        return _fail(f"bad script {exc}; see `ibguard.kit.gateway.script_file` for the format")
    accounts = script.accounts
    if args.account:
        accounts = tuple(a.strip() for a in args.account.split(","))
        if not all(accounts):
            return _fail("--account needs names like DU1234567 (comma separated)")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    instrument_files = tuple(args.instruments or ())
    try:
        broker = _broker(script, accounts, instrument_files)
    except ConfigError as exc:
        return _fail(f"bad instrument file {exc}; see `ibguard.kit.sim.instruments_file`")
    gateway = Gateway(broker, host=args.host, port=args.port, follow_real_time=True)
    script.apply(broker, gateway.faults)
    if args.script:
        logging.getLogger(__name__).info(
            "script %s loaded", args.script, extra={"code": GatewayLogCode.SCRIPT_LOADED}
        )
    try:
        return asyncio.run(_serve(gateway, accounts))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _fail(f"cannot listen on {args.host}:{args.port}: {reason}; choose another --port")


def _broker(
    script: GatewayScript, accounts: tuple[str, ...], instrument_files: tuple[Path, ...]
) -> SimBroker:
    from datetime import datetime, timedelta, timezone

    from ibguard.kit.sim.broker import BrokerConfig, SimBroker
    from ibguard.kit.sim.clock import VirtualClock

    # Broker time starts at the real time (plus the script's skew) and follows the loop.
    start = datetime.now(timezone.utc) + timedelta(seconds=script.skew_seconds)
    config = BrokerConfig(
        accounts=accounts,
        rate_limit_per_second=script.rate_limit_per_second,
        default_price=script.default_price,
        commission_per_share=script.commission_per_share,
        start=start,
        # a paper TWS: the price model quotes and fills, unknown contracts are error 200
        market_prices=True,
        create_unknown_contracts=False,
        instrument_files=instrument_files,
    )
    return SimBroker(config, clock=VirtualClock(start))


async def _serve(gateway: Gateway, accounts: tuple[str, ...]) -> int:
    import asyncio
    import signal

    from ibguard.kit.gateway.handshake import MAX_SERVER_VERSION, MIN_SERVER_VERSION

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await gateway.start()
    versions = f"{MIN_SERVER_VERSION}..{MAX_SERVER_VERSION}"
    sys.stdout.write(
        f"ibguard gateway: fake TWS listening on {gateway.host}:{gateway.port} "
        f"(accounts {','.join(accounts)}, server versions {versions}); Ctrl-C to stop\n"
    )
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await gateway.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    sys.stdout.write("ibguard gateway: stopped\n")
    sys.stdout.flush()
    return 0
