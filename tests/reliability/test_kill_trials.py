"""Seeded kill -9 trials of `ibguard engine run` over the fake TWS gateway (issue 11).

Each trial opens a fresh paper account at the gateway (127.0.0.1, ib_async under the
service) holding what a previous run of ours left: filled orders (positions in AAPL and
MSFT) and a working TSLA order that fills in parts while the service runs. Broker time
starts one second before the 15:50 New York EOD flatten, so every trial crosses the EOD
moment. The service is killed with SIGKILL at a random moment or at an injected journal
write (just before or just after it), then restarted on the same journal and left to
settle: flat at the broker, nothing of ours live, /health 200. Then it is stopped with
SIGTERM and its journal replayed into a fresh engine, whose book must match the broker's:
0 duplicate orders, 0 lost or double-counted fills, 0 lost flattens, equal positions.

Speed (the whole suite runs in CI's 15 minutes): services are forked from a forkserver
that has the CLI and ib_async imported already, the service ticks every 50 ms, and every
wait is for a condition (a process exit, a broker state, a health answer), never a sleep
of fixed length except the random kill moment itself. Most of a trial is such waiting, and
trials share nothing (each has its own account, gateway, ports and journal), so
`AT_ONCE` of them run side by side.

`IBGUARD_KILL_SEED` and `IBGUARD_KILL_TRIALS` change the seed and the number of trials.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from ibguard.engine.config import EngineConfig
from ibguard.engine.engine import Engine
from ibguard.engine.shell.crash_points import CRASH_ENV
from ibguard.engine.shell.journal import SqliteJournal
from ibguard.kit.gateway.thread_host import GatewayThread
from ibguard.kit.sim.broker import BrokerConfig, SimBroker
from ibguard.kit.sim.clock import VirtualClock

SEED = int(os.environ.get("IBGUARD_KILL_SEED", "20261204"))
TRIALS = int(os.environ.get("IBGUARD_KILL_TRIALS", "32"))
AT_ONCE = 4  # trials in flight together
ACCOUNT = "DU1234567"
NEW_YORK = ZoneInfo("America/New_York")
PREVIOUS_RUN = 1  # our earlier run had the same clientId (the default), so it may cancel
OURS = "ibg:"  # the engine's default orderRef namespace
SYMBOLS = ("AAPL", "MSFT", "TSLA")
TICK = "0.05"
SETTLE_SECONDS = 15.0
D = Decimal


# --- the service, as its own process ------------------------------------------------------


def _service_main(argv: list[str], crash: str | None) -> None:
    """The child: `ibguard engine run` with (or without) an injected crash point."""
    if crash is None:
        os.environ.pop(CRASH_ENV, None)
    else:
        os.environ[CRASH_ENV] = crash
    from ibguard.kit.cli import main

    sys.exit(main(argv))


def _warm_up() -> None:
    """Nothing: starting it makes the forkserver import the service's modules."""


def _forkserver() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        [__name__, "ibguard.kit.engine_command", "ibguard.engine.connector.ib", "ib_async"]
    )
    return context


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Service:
    process: Any
    health_port: int
    logs: Path

    def health(self) -> int:
        return self.health_report()[0]

    def health_report(self) -> tuple[int, dict[str, Any]]:
        """(status, body) of GET /health; (0, {}) while nothing listens."""
        url = f"http://127.0.0.1:{self.health_port}/health"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return int(answer.status), json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return int(error.code), json.loads(error.read())
        except OSError:
            return 0, {}  # not listening (yet, or any more)

    def stop(self) -> int | None:
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGTERM)
        self.process.join(20)
        if self.process.is_alive():  # a service that ignores SIGTERM fails the trial
            self.process.kill()
            self.process.join()
            return None
        return int(self.process.exitcode)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL
        self.process.join()


def _log_codes(logs: Path) -> list[str]:
    codes = []
    for path in sorted(logs.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError):
                codes.append(json.loads(line).get("code") or "")
    return codes


# --- the broker side ----------------------------------------------------------------------


def _next_weekday_eod(lead: float) -> datetime:
    """Broker start: `lead` seconds before 15:50 New York on a weekday after today."""
    day = datetime.now(NEW_YORK).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    eod = datetime(day.year, day.month, day.day, 15, 50, tzinfo=NEW_YORK)
    return (eod - timedelta(seconds=lead)).astimezone(timezone.utc)


@dataclass
class Account:
    """One fresh paper account behind the gateway, seeded with a previous run's orders."""

    broker: SimBroker
    gateway: GatewayThread
    working: int  # permId of the TSLA order that fills while the service runs
    eod: datetime
    offset: timedelta  # broker time - real time

    @classmethod
    def open(cls, lead: float = 1.0) -> Account:
        start = _next_weekday_eod(lead)
        broker = SimBroker(BrokerConfig(start=start), clock=VirtualClock(start))

        def ours(symbol: str, action: str, quantity: int, limit: str, name: str) -> int:
            order = broker.inject_order(
                client_id=PREVIOUS_RUN,
                symbol=symbol,
                action=action,
                quantity=D(quantity),
                lmt_price=D(limit),  # far from the market: it rests until filled here
                order_ref=OURS + name,
            )
            return order.perm_id

        broker.fill(ours("AAPL", "BUY", 100, "1", "seed-aapl"), D(100), D("1"))
        msft = ours("MSFT", "SELL", 60, "1000", "seed-msft")
        broker.fill(msft, D(20), D("1000"))
        broker.fill(msft, D(40), D("1000.5"))
        working = ours("TSLA", "BUY", 30, "1", "seed-tsla")
        gateway = GatewayThread(broker, follow_real_time=True)
        gateway.start()
        offset = start - datetime.now(timezone.utc)
        return cls(broker, gateway, working, start + timedelta(seconds=lead), offset)

    def broker_time(self) -> datetime:
        """Broker time now, also while nobody asks the gateway (its clock moves on requests)."""
        return datetime.now(timezone.utc) + self.offset

    def fill_working(self) -> None:
        """A part of the working order fills now (if it still works)."""

        def fill() -> None:
            order = self.broker.ledger.orders[self.working]
            if order.is_live and order.remaining >= 10:
                self.broker.fill(self.working, D(10), D("1"))

        self.gateway.call(fill)

    def snapshot(self) -> BrokerView:
        return self.gateway.call(lambda: BrokerView.of(self.broker))

    def close(self) -> None:
        self.gateway.stop()


@dataclass(frozen=True)
class BrokerView:
    now: datetime
    positions: dict[str, Decimal]
    live_ours: int
    refs: Counter[str]  # orders per orderRef of ours
    executions: dict[str, tuple[str, Decimal]]  # execId -> (orderRef, shares)

    @classmethod
    def of(cls, broker: SimBroker) -> BrokerView:
        orders = [o for o in broker.orders() if o.order_ref.startswith(OURS)]
        return cls(
            now=broker.clock.broker_now(),
            positions={s: broker.position(s, ACCOUNT) for s in SYMBOLS},
            live_ours=sum(o.is_live for o in orders),
            refs=Counter(o.order_ref for o in orders),
            executions={
                e.execution.execId: (e.execution.orderRef, e.execution.shares)
                for e in broker.ledger.executions
                if e.execution.orderRef.startswith(OURS)
            },
        )

    @property
    def flat(self) -> bool:
        return not any(self.positions.values()) and not self.live_ours


# --- one trial ----------------------------------------------------------------------------


@dataclass
class Plan:
    """When the first run dies: at a random moment, or at its N-th journal write."""

    kill_after: float | None = None
    crash: str | None = None  # "N:before" | "N:after"

    def describe(self) -> str:
        return f"kill at {self.kill_after:.2f}s" if self.crash is None else f"crash {self.crash}"


@dataclass
class Outcome:
    plan: Plan
    crashed: bool = False
    duplicates: int = 0
    lost_fills: int = 0
    double_fills: int = 0
    lost_flattens: int = 0
    position_mismatches: int = 0
    problems: list[str] = field(default_factory=list)


class Trials:
    def __init__(self, root: Path, context: Any) -> None:
        self.root = root
        self.context = context

    def spawn(self, directory: Path, crash: str | None, port: int) -> Service:
        """`ibguard engine run` against the gateway on `port`."""
        health = _free_port()
        argv = [
            "engine", "run", "--broker", "ib", "--port", str(port),
            "--account", ACCOUNT, "--health-port", str(health), "--tick-seconds", TICK,
            "--log-dir", str(directory / "logs"), "--journal", str(directory / "book.sqlite"),
        ]  # fmt: skip
        process = self.context.Process(target=_service_main, args=(argv, crash), daemon=True)
        process.start()
        return Service(process, health, directory / "logs")

    def run(self, number: int, plan: Plan) -> Outcome:
        """One trial: a first run that dies as planned, then a restart that must settle."""
        directory = self.root / f"trial-{number:03d}"
        directory.mkdir()
        account = Account.open()
        outcome = Outcome(plan)
        try:
            first = self.spawn(directory, plan.crash, account.gateway.port)
            self._first_run(first, account, plan, outcome)
            self._restart(directory, account, outcome)
        finally:
            account.close()
        return outcome

    def calibrate(self) -> int:
        """A run left alone to settle: how many journal writes one run makes."""
        directory = self.root / "calibration"
        directory.mkdir()
        account = Account.open()
        outcome = Outcome(Plan())
        try:
            self._restart(directory, account, outcome)
        finally:
            account.close()
        assert outcome.problems == [], outcome.problems
        return len(SqliteJournal(directory / "book.sqlite"))

    def _restart(self, directory: Path, account: Account, outcome: Outcome) -> None:
        service = self.spawn(directory, None, account.gateway.port)
        settled = self._settle(service, account, outcome)
        code = service.stop()
        if code != 0:
            outcome.problems.append(f"restarted service ended with {code}")
        self._audit(directory / "book.sqlite", account.snapshot(), settled, outcome)

    def _first_run(self, service: Service, account: Account, plan: Plan, out: Outcome) -> None:
        started = time.monotonic()
        fills_at = [0.25, 0.5, 0.75]  # seconds into the run: live fills of the working order
        deadline = started + (plan.kill_after if plan.kill_after is not None else SETTLE_SECONDS)
        while service.process.is_alive() and time.monotonic() < deadline:
            if fills_at and time.monotonic() - started >= fills_at[0]:
                fills_at.pop(0)
                account.fill_working()
            service.process.join(0.01)  # wakes at once when the process dies
        if service.process.is_alive():
            service.kill()
            out.crashed = plan.kill_after is not None
            if plan.crash is not None:
                out.problems.append(f"crash point {plan.crash} never reached")
        else:
            out.crashed = service.process.exitcode == -signal.SIGKILL
            if not out.crashed:
                out.problems.append(f"first run ended by itself with {service.process.exitcode}")
        for _ in fills_at:  # what did not fill before the crash fills while it is down
            account.fill_working()

    def _settle(self, service: Service, account: Account, out: Outcome) -> bool:
        """Wait until the restarted service has flattened and agrees with the broker."""
        before = _log_codes(service.logs).count("RECONCILE_DONE")
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            view = account.snapshot()
            if (
                view.now > account.eod
                and view.flat
                and _log_codes(service.logs).count("RECONCILE_DONE") > before
                and service.health() == 200
            ):
                return True
            if not service.process.is_alive():
                out.problems.append(f"restarted service died: {service.process.exitcode}")
                return False
            service.process.join(0.02)
        view = account.snapshot()
        out.problems.append(
            f"not settled in {SETTLE_SECONDS}s: broker {view.positions}, "
            f"{view.live_ours} live, health {service.health()}, "
            f"codes {Counter(_log_codes(service.logs)).most_common()}"
        )
        return False

    def _audit(self, journal_path: Path, broker: BrokerView, settled: bool, out: Outcome) -> None:
        engine = Engine(EngineConfig(account=ACCOUNT))
        journal = SqliteJournal(journal_path)
        try:
            engine.replay(journal.events())
        finally:
            journal.close()
        out.duplicates = sum(count - 1 for count in broker.refs.values())
        if not broker.flat:
            # a flatten sent twice overshoots: the position flips sign instead of closing
            seeded = {"AAPL": 1, "MSFT": -1, "TSLA": 1}
            for symbol, quantity in broker.positions.items():
                if quantity * seeded[symbol] < 0:
                    out.duplicates += 1
                elif quantity:
                    out.lost_flattens += 1
        counted = Counter(f.exec_id for o in engine.orders() for f in o.fills)
        out.lost_fills = sum(1 for exec_id in broker.executions if exec_id not in counted)
        out.double_fills = sum(n - 1 for n in counted.values()) + sum(
            1 for exec_id in counted if exec_id not in broker.executions
        )
        for order in engine.orders():
            at_broker = sum(
                shares for ref, shares in broker.executions.values() if ref == OURS + order.oms_id
            )
            if order.filled > at_broker:
                out.double_fills += 1
                out.problems.append(f"{order.oms_id}: engine {order.filled} > broker {at_broker}")
        engine_positions = {p.instrument.symbol: p.quantity for p in engine.positions()}
        for symbol in SYMBOLS:
            if engine_positions.get(symbol, D(0)) != broker.positions[symbol]:
                out.position_mismatches += 1
                out.problems.append(
                    f"{symbol}: engine {engine_positions.get(symbol)}, "
                    f"broker {broker.positions[symbol]}"
                )
        if not settled and not out.problems:
            out.problems.append("did not settle")


def _plans(rng: random.Random, writes: int, trials: int) -> Iterator[Plan]:
    """Half at random moments across the EOD moment, half at journal writes, each write
    number at most once per phase while the trials last."""
    points = [f"{n}:{phase}" for n in range(1, writes + 1) for phase in ("before", "after")]
    rng.shuffle(points)
    for number in range(trials):
        if number % 2 == 0 or not points:
            yield Plan(kill_after=rng.uniform(0.05, 2.0))
        else:
            yield Plan(crash=points.pop())


@pytest.fixture(scope="module")
def forkserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # the forkserver imports this module by name: let it find the repo's tests package
    root = str(Path(__file__).resolve().parents[2])
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = root + (os.pathsep + previous if previous else "")
    try:
        context = _forkserver()
        warm_up = context.Process(target=_warm_up)  # the server starts and imports, once
        warm_up.start()
        warm_up.join()
        yield context
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def test_kill_9_trials_lose_no_fill_no_flatten_and_duplicate_no_order(
    forkserver: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    trials = Trials(tmp_path, forkserver)
    rng = random.Random(SEED)
    writes = trials.calibrate()  # the crash points: every write of one run
    plans = list(_plans(rng, writes, TRIALS))
    with ThreadPoolExecutor(AT_ONCE) as pool:
        outcomes = list(pool.map(trials.run, range(1, len(plans) + 1), plans))

    totals = Counter[str]()
    for outcome in outcomes:
        totals["crashes"] += outcome.crashed
        totals["at random moments"] += outcome.plan.crash is None
        totals["at journal writes"] += outcome.plan.crash is not None
        for name in ("duplicates", "lost_fills", "double_fills", "lost_flattens"):
            totals[name] += getattr(outcome, name)
        totals["position_mismatches"] += outcome.position_mismatches
    failed = [
        f"trial {n} ({o.plan.describe()}): {'; '.join(o.problems)}"
        for n, o in enumerate(outcomes, 1)
        if o.problems
    ]
    with capsys.disabled():
        for line in failed:
            print(line)
        print(
            f"\nkill -9 trials (seed {SEED}): {len(outcomes)} trials, {totals['crashes']} "
            f"crashes ({totals['at random moments']} at random moments, "
            f"{totals['at journal writes']} at journal writes of {writes}); "
            f"duplicate orders {totals['duplicates']}, lost fills {totals['lost_fills']}, "
            f"double-counted fills {totals['double_fills']}, "
            f"lost flattens {totals['lost_flattens']}, "
            f"position mismatches {totals['position_mismatches']}; "
            f"{time.monotonic() - started:.1f}s"
        )
    assert len(outcomes) >= 30
    assert totals["crashes"] >= 30
    assert failed == []
    assert totals["duplicates"] == totals["lost_fills"] == totals["double_fills"] == 0
    assert totals["lost_flattens"] == totals["position_mismatches"] == 0
