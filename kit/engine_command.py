"""`ibguard engine run`: the reference engine as a service, against a simulated broker or
TWS / IB Gateway.

The composition root of the runnable engine: settings (TOML + flags, every bad value
reported at once, exit 2), JSON log files, the optional write-ahead journal (replayed at
start), the connector chosen by `--broker` (`sim`: the embedded simulated paper account,
whose clock follows real time; `ib`: ib_async against `--host/--port/--client-id`), and the
engine service with its /health and /metrics server. SIGINT/SIGTERM stop it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ibguard.engine.engine import RESTARTED, Engine
from ibguard.engine.logcodes import LogCode
from ibguard.engine.ports import BrokerPort, Journal
from ibguard.engine.shell.crash_points import CrashingJournal, crash_point
from ibguard.engine.shell.event_codec import JournalCorrupt
from ibguard.engine.shell.journal import SqliteJournal
from ibguard.engine.shell.logfiles import configure_logging, lean_log_records
from ibguard.engine.shell.service import EngineService
from ibguard.engine.shell.settings import (
    Broker,
    ServiceSettings,
    add_arguments,
    settings_from_args,
)
from ibguard.engine.shell.system_clock import SystemClock
from ibguard.errors import ConfigError

__all__ = ["configure", "run"]

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="engine_command", metavar="ACTION", required=True)
    run_parser = sub.add_parser(
        "run",
        help="Run the reference engine until SIGINT/SIGTERM.",
        epilog=(
            "The broker connection is retried for as long as it is down (exponential backoff "
            "capped at 30 s, jittered); /health answers 503 meanwhile. Exit codes: 0 stopped, "
            "1 halted (client id in use, wrong account), 2 bad settings, health address or "
            "journal."
        ),
    )
    add_arguments(run_parser)
    run_parser.add_argument(
        "--journal",
        metavar="FILE",
        help="SQLite write-ahead journal; replayed at start so a restart keeps its book",
    )
    run_parser.add_argument(
        "--stop-after",
        metavar="SECONDS",
        type=float,
        help="stop by itself after this many seconds (smoke tests, demos)",
    )


@dataclass
class _Connection:
    port: BrokerPort
    connect: Callable[[], Awaitable[None]] | None
    disconnect: Callable[[], Awaitable[None]] | None
    background: Callable[[], Coroutine[None, None, None]] | None = None


def _sim_connection(settings: ServiceSettings) -> _Connection:
    from ibguard.kit.sim.broker import BrokerConfig, SimBroker
    from ibguard.kit.sim.inprocess import SimConnector

    broker = SimBroker(
        BrokerConfig(accounts=(settings.engine.account,), start=datetime.now(timezone.utc))
    )
    connector = SimConnector(broker, settings.engine.client_id)

    async def follow_real_time() -> None:
        loop = asyncio.get_running_loop()
        mark = loop.time()
        while True:
            await asyncio.sleep(0.25)
            now = loop.time()
            broker.advance(now - mark)
            mark = now

    async def disconnect() -> None:
        connector.disconnect()

    # SimConnector connects when started; nothing more to do at connect time
    return _Connection(connector, None, disconnect, follow_real_time)


def _ib_connection(settings: ServiceSettings) -> _Connection:
    from ibguard.engine.connector.ib import IBConnector

    # the connector connects in the background once started, and reconnects with backoff
    connector = IBConnector(
        settings.host, settings.port, settings.engine.client_id, clock=SystemClock()
    )

    async def disconnect() -> None:
        connector.stop()  # for good: a halted engine must not reconnect in a loop

    return _Connection(connector, None, disconnect)


async def _serve(
    settings: ServiceSettings, args: argparse.Namespace, flush_logs: Callable[[], None]
) -> int:
    # signals and --stop-after first: whatever happens next, they are honoured
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.stop_after is not None:
        loop.call_later(args.stop_after, stop.set)
    connection = (
        _sim_connection(settings) if settings.broker is Broker.SIM else _ib_connection(settings)
    )
    engine = Engine(settings.engine)
    journal = SqliteJournal(args.journal) if args.journal else None
    crash = crash_point(os.environ)  # kill -9 trials only: see crash_points.py
    port_journal: Journal | None = journal
    if journal is not None and crash is not None:
        port_journal = CrashingJournal(journal, crash[0], after=crash[1])
    background: asyncio.Task[None] | None = None
    try:
        if journal is not None:
            engine.replay(journal.events())
            journal.append(RESTARTED)  # the next replay sees this restart where it happened
        service = EngineService(
            engine,
            connection.port,
            SystemClock(),
            connect=connection.connect,
            disconnect=connection.disconnect,
            health_host=settings.health_host,
            health_port=settings.health_port,
            tick_seconds=settings.tick_seconds,
            journal=port_journal,
            after_batch=flush_logs,
        )
        if connection.background is not None:
            background = asyncio.create_task(connection.background())
        await service.run(stop)
    finally:
        if background is not None:
            background.cancel()
        if journal is not None:
            journal.close()
    return 1 if engine.halted else 0


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except ConfigError as error:
        print(f"ibguard engine run: {error}", file=sys.stderr)
        return 2
    installed = configure_logging(
        Path(settings.log_dir),
        max_bytes=settings.log_max_bytes,
        backups=settings.log_backups,
        tz=settings.engine.exchange_tz,
        level=settings.log_level,
        buffered=True,  # flushed after each batch of events
    )
    try:
        with lean_log_records():  # the service owns its logging: no caller frames per line
            return asyncio.run(_serve(settings, args, installed.handler.flush))
    except ConfigError as error:
        # logging is up by now: the service's log says why it did not start, too
        log.error("configuration refused: %s", error, extra={"code": LogCode.CONFIG_ERROR})
        print(f"ibguard engine run: {error}", file=sys.stderr)
        return 2
    except (sqlite3.Error, JournalCorrupt) as error:
        print(
            f"ibguard engine run: journal {args.journal}: {error}; "
            "restore it from a backup or start with a new --journal file",
            file=sys.stderr,
        )
        return 2
    finally:
        installed.remove()
