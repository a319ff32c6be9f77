"""The engine service: ticks on broker time, serves real /health, stops the connector on a
halt instead of reconnecting in a loop, and shuts down cleanly."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from ibguard.engine import Engine, EngineConfig
from ibguard.engine.events import (
    BrokerEvent,
    ConnectionRestored,
    Event,
    ManagedAccounts,
    NextValidId,
)
from ibguard.engine.ports import ReadHandler
from ibguard.engine.shell.journal import SqliteJournal
from ibguard.engine.shell.service import EngineService

from tests.fakes.broker import QuietBroker, long
from tests.fakes.clock import ManualClock

ACCOUNT = "DU77"
START = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)


async def _get(port: int, path: str) -> tuple[int, dict]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, json.loads(body) if path == "/health" else {"text": body.decode()}


def _service(broker: QuietBroker) -> tuple[EngineService, ManualClock]:
    clock = ManualClock(START)
    engine = Engine(EngineConfig(account=ACCOUNT))
    service = EngineService(
        engine,
        broker,
        clock,
        connect=broker.connect,
        disconnect=broker.disconnect,
        tick_seconds=0.001,
    )
    return service, clock


async def _run_until(service: EngineService, condition, stop: asyncio.Event) -> asyncio.Task:
    task = asyncio.create_task(service.run(stop))
    for _ in range(2000):
        await asyncio.sleep(0)
        if condition():
            break
    return task


def test_service_serves_health_and_metrics_and_stops_cleanly() -> None:
    async def scenario() -> None:
        broker = QuietBroker(ACCOUNT)
        service, _clock = _service(broker)
        stop = asyncio.Event()
        task = await _run_until(
            service, lambda: service.engine.connected and service.engine.now, stop
        )
        port = service.health_server.port
        status, body = await _get(port, "/health")
        assert status == 200
        assert body["status"] == "ok"
        status, metrics = await _get(port, "/metrics")
        assert status == 200
        assert "ibguard_fills_total 0" in metrics["text"]
        assert service.engine.now == START
        stop.set()
        await asyncio.wait_for(task, 5)
        assert broker.disconnects == 1

    asyncio.run(scenario())


def test_OPS_02_health_endpoint_says_unhealthy_with_the_reason_when_positions_disagree() -> None:
    async def scenario() -> None:
        broker = QuietBroker(ACCOUNT)
        broker.positions = (long(ACCOUNT, "100"),)  # the broker holds what the engine does not
        service, _ = _service(broker)
        stop = asyncio.Event()
        task = await _run_until(
            service,
            lambda: "positions" in {c.name for c in service.engine.health().failures},
            stop,
        )
        status, body = await _get(service.health_server.port, "/health")
        assert status == 503
        assert body["status"] == "unhealthy"
        assert body["checks"][0]["name"] == "positions"
        assert "AAPL" in body["checks"][0]["reason"]
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())


def test_CONN_04_halted_engine_drops_the_session_once_and_never_reconnects() -> None:
    async def scenario() -> None:
        broker = QuietBroker(ACCOUNT, accounts=("FU999",))  # SEC-02 style halt at connect
        service, clock = _service(broker)
        stop = asyncio.Event()
        task = await _run_until(service, lambda: broker.disconnects == 1, stop)
        assert service.engine.halted
        for _ in range(20):
            clock.advance(1)
            await asyncio.sleep(0)
        assert service.engine.halted
        assert broker.connects == 1
        assert broker.disconnects == 1
        stop.set()
        await asyncio.wait_for(task, 5)
        assert broker.disconnects == 1  # not again at shutdown

    asyncio.run(scenario())


def test_metrics_report_event_age_and_skew() -> None:
    broker = QuietBroker(ACCOUNT)
    service, clock = _service(broker)
    samples = {s.name: s.value for s in service.metrics()}
    assert samples["ibguard_last_event_age_seconds"] == -1.0
    broker.start(service._on_event)
    asyncio.run(broker.connect())
    clock.advance(2.5)
    samples = {s.name: s.value for s in service.metrics()}
    assert samples["ibguard_last_event_age_seconds"] == 2.5
    assert samples["ibguard_clock_skew_seconds"] == 0.0


def test_service_without_connect_hooks_runs_and_stops() -> None:
    async def scenario() -> None:
        broker = QuietBroker(ACCOUNT)
        service = EngineService(
            Engine(EngineConfig(account=ACCOUNT)), broker, ManualClock(START), tick_seconds=0.001
        )
        stop = asyncio.Event()
        task = await _run_until(service, lambda: service.engine.now is not None, stop)
        stop.set()
        await asyncio.wait_for(task, 5)
        assert broker.disconnects == 0

    asyncio.run(scenario())


def test_halt_without_a_disconnect_hook_still_stops_sending() -> None:
    async def scenario() -> None:
        broker = QuietBroker(ACCOUNT, accounts=("FU999",))
        service = EngineService(
            Engine(EngineConfig(account=ACCOUNT)), broker, ManualClock(START), tick_seconds=0.001
        )
        stop = asyncio.Event()
        task = await _run_until(service, lambda: service.engine.now is not None, stop)
        await broker.connect()
        await asyncio.sleep(0.02)  # a few ticks of the service loop see the halt
        assert service.engine.halted
        stop.set()
        await asyncio.wait_for(task, 5)
        assert broker.sent == []

    asyncio.run(scenario())


def test_system_clock_reads_aware_utc_time() -> None:
    from ibguard.engine.shell.system_clock import SystemClock

    now = SystemClock().now()
    assert now.utcoffset() is not None
    assert now > START


class CountingJournal(SqliteJournal):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes: list[int] = []

    def append_all(self, events: Sequence[Event]) -> None:
        self.writes.append(len(events))
        super().append_all(events)


async def _serving_counted(
    broker: QuietBroker, path: Path, stop: asyncio.Event
) -> tuple[EngineService, CountingJournal, list[int], asyncio.Task]:
    """A service serving (until `stop`) whose journal counts its writes, from now on;
    `flushes` has the journal's length at each log flush (after_batch) from now on."""
    journal = CountingJournal(path)
    flushes: list[int] = []
    service = EngineService(
        Engine(EngineConfig(account=ACCOUNT)),
        broker,
        ManualClock(START),
        tick_seconds=3600,  # no ticks: only the broker's events
        journal=journal,
        after_batch=lambda: flushes.append(len(journal)),
    )
    task = await _run_until(service, lambda: service.engine.now is not None, stop)
    flushes.clear()
    journal.writes.clear()
    return service, journal, flushes, task


def test_events_of_one_socket_read_are_one_journal_write_and_one_log_flush(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        broker, stop = QuietBroker(ACCOUNT), asyncio.Event()
        service, journal, flushes, task = await _serving_counted(broker, tmp_path / "j", stop)
        before = len(journal)
        await broker.connect()  # NextValidId, ManagedAccounts, ConnectionRestored at once
        assert len(journal) == before  # gathered, not yet handled
        await asyncio.sleep(0)
        assert journal.writes[0] == 3
        assert flushes[0] >= before + 3  # the log flush follows the stored batch
        assert service.engine.connected
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())


def test_events_before_the_stop_are_stored_and_events_after_it_are_left_alone(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        broker = QuietBroker(ACCOUNT)
        journal = SqliteJournal(tmp_path / "j.sqlite")
        service = EngineService(
            Engine(EngineConfig(account=ACCOUNT)),
            broker,
            ManualClock(START),
            tick_seconds=3600,
            journal=journal,
        )
        stop = asyncio.Event()
        task = await _run_until(service, lambda: service.engine.now is not None, stop)
        broker.emit(NextValidId(order_id=5))  # arrives, then the stop comes at once
        stop.set()
        await asyncio.wait_for(task, 5)
        stored = len(journal)
        assert list(journal.events())[-1] == NextValidId(order_id=5)
        journal.close()  # as `ibguard engine run` does once the service is done
        failures: list[dict[str, object]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _, error: failures.append(error))
        broker.emit(NextValidId(order_id=6))  # a straggler from the closing session
        await asyncio.sleep(0)
        assert failures == []  # no write to the closed journal
        assert len(SqliteJournal(tmp_path / "j.sqlite")) == stored

    asyncio.run(scenario())


def test_events_delivered_outside_the_loop_are_handled_at_once() -> None:
    broker = QuietBroker(ACCOUNT)
    service, _ = _service(broker)
    broker.start(service._on_event)  # a synchronous connector, no loop running
    broker.emit(NextValidId(order_id=9))
    assert service.engine.queue_depth == 0
    assert service.metrics()  # handled: the event's age is known
    assert {s.name: s.value for s in service.metrics()}["ibguard_last_event_age_seconds"] == 0.0


def test_events_from_another_thread_while_serving_are_handled_there_at_once() -> None:
    async def scenario() -> None:
        broker = QuietBroker(ACCOUNT)
        batches_done_in: list[int] = []
        service = EngineService(
            Engine(EngineConfig(account=ACCOUNT)),
            broker,
            ManualClock(START),
            tick_seconds=3600,
            after_batch=lambda: batches_done_in.append(threading.get_ident()),
        )
        stop = asyncio.Event()
        task = await _run_until(service, lambda: batches_done_in != [], stop)
        batches_done_in.clear()
        thread = threading.Thread(target=broker.emit, args=(NextValidId(order_id=9),))
        thread.start()
        thread.join()
        # not queued for a loop that is not that thread's: handled before emit returned
        assert batches_done_in == [thread.ident]
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())


class ReadingBroker(QuietBroker):
    """Hands over a socket read at a time, as the IB connector does (start_by_read):
    `connect`'s three events are one read; an answer to a command comes alone."""

    def __init__(self, account: str) -> None:
        super().__init__(account)
        self._on_read: ReadHandler | None = None

    def start_by_read(self, on_read: ReadHandler) -> bool:
        self._on_read = on_read
        return True

    def emit(self, event: BrokerEvent) -> None:
        self.read(event)

    def read(self, *events: BrokerEvent) -> None:
        assert self._on_read is not None, "start_by_read() first"
        self._on_read(events)

    async def connect(self) -> None:
        self.connects += 1
        self.read(
            NextValidId(order_id=1),
            ManagedAccounts(accounts=self.accounts),
            ConnectionRestored(data_lost=True, client_id=1),
        )


def test_a_read_handed_over_whole_is_stored_as_one_batch_and_handled_before_the_port_returns(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        broker, stop = ReadingBroker(ACCOUNT), asyncio.Event()
        service, journal, flushes, task = await _serving_counted(broker, tmp_path / "j", stop)
        before = len(journal)
        await broker.connect()  # one read: NextValidId, ManagedAccounts, ConnectionRestored
        # no loop step in between: stored as one batch and handled; each answer to the
        # reconciliation it started (a read of its own, from inside a batch) queued
        # behind that batch and handled next, before connect() returned
        assert journal.writes == [3, 1, 1, 1, 1]
        assert len(journal) - before == 7
        assert flushes[-1] == len(journal)  # the log flush follows the stored batches
        assert service.engine.connected
        assert service.engine.queue_depth == 0
        stop.set()
        await asyncio.wait_for(task, 5)
        stored = len(journal)
        broker.read(NextValidId(order_id=6))  # a straggler after the stop: left alone
        assert len(journal) == stored

    asyncio.run(scenario())


def test_a_port_that_cannot_tell_where_a_read_ends_is_started_event_by_event() -> None:
    assert QuietBroker(ACCOUNT).start_by_read(lambda events: None) is False
