"""The matrix's wire driver: the reference engine trades through its real IB connector
against the fake TWS gateway, every case step ends at a quiescent point, and the run says
the same things as the in-process one."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from ibguard.kit.cli import main
from ibguard.kit.matrix import wire_loop
from ibguard.kit.matrix.casebook import behaviour
from ibguard.kit.matrix.catalog import case, variant_ids
from ibguard.kit.matrix.drivers import (
    DEFAULT_DRIVER,
    Driver,
    InProcessDriver,
    WireDriver,
    WireSubjectError,
    make_driver,
)
from ibguard.kit.matrix.reference import ReferenceSubject, make_subject
from ibguard.kit.matrix.runner import play
from ibguard.kit.matrix.stage import CaseFailure, Settled, Stage, StageMaker, WrongDriver
from ibguard.kit.matrix.subject import WireEndpoint
from ibguard.kit.matrix.wire_loop import WireLoop, WireQuiescenceError
from ibguard.kit.sim.broker import SimBroker

from tests.matrix.broken_engines import duplicate_exec_ids, order_id_keys, resubmit_on_reconnect

pytest.importorskip("ib_async")
pytestmark = pytest.mark.untraced  # replays engine lines tests/engine traces (tests/conftest.py)

FAST = [t for t in variant_ids() if case(t).category not in ("PERF", "BOUNDARY")]


def _codes(test_id: str, driver: Callable[[], Driver]) -> list[str]:
    entry = case(test_id)
    maker = StageMaker(make_subject, driver, variant=test_id[len(entry.id) :].strip("[]"))
    try:
        behaviour(entry.id).play(maker)
    finally:
        maker.close()
    return maker.codes()


# --- the whole matrix ---------------------------------------------------------------------


@pytest.mark.parametrize("driver", ["wire", "inprocess"])
def test_the_whole_matrix_is_green(driver: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The reference engine under both drivers (this repo's own pytest also runs the matrix's
    items through the plugin, on the default driver)."""
    assert main(["matrix", "--driver", driver]) == 0
    captured = capsys.readouterr()
    tests = len(variant_ids())
    assert captured.out.rstrip().endswith(f"{tests} cases: {tests} pass")
    assert f"ibguard matrix: driver {driver}, {tests} cases in" in captured.err
    with capsys.disabled():
        print("\n" + captured.err.strip())  # the wall time, for the record (not judged)


def test_wire_is_the_default_driver() -> None:
    assert DEFAULT_DRIVER == "wire"
    assert isinstance(make_driver(DEFAULT_DRIVER), WireDriver)


@pytest.mark.parametrize(
    "case_id",
    [
        "CONN-01[received]",
        "CONN-01[lost]",
        "CONN-02",
        "CONN-04",
        "LIFE-01",
        "LIFE-03[buy]",
        "LIFE-03[sell]",
        "LIFE-05[after-reconnect]",
        "FAIL-05",
        "FAIL-06",
    ],
)
def test_the_wire_run_logs_what_the_inprocess_run_logs(case_id: str) -> None:
    """Same decisions in the same order. The one difference: stopping the in-process port
    reports the disconnect (CONNECTION_LOST); a stopped IBConnector reports nothing more."""
    inprocess = [c for c in _codes(case_id, InProcessDriver) if c != "CONNECTION_LOST"]
    wire = [c for c in _codes(case_id, WireDriver) if c != "CONNECTION_LOST"]
    assert wire == inprocess


# --- broken engines fail the right cases over the wire -------------------------------------


def _failing(factory: Callable[[], object]) -> set[str]:
    failed = set()
    for case_id in FAST:
        try:
            play(case_id, factory, WireDriver)  # type: ignore[arg-type]
        except CaseFailure:
            failed.add(case_id)
    return failed


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        pytest.param(duplicate_exec_ids.make_subject, {"LIFE-05[live]"}, id="duplicate-exec-ids"),
        pytest.param(
            order_id_keys.make_subject,
            {"CONN-01[received]", "CONN-02", "FAIL-05", "FAIL-06", "LIFE-08", "RECON-02[restart]"},
            id="keyed-by-order-id",
        ),
        pytest.param(
            resubmit_on_reconnect.make_subject,
            {"CONN-01[received]", "CONN-01[lost]"},
            id="resubmit-on-reconnect",
        ),
    ],
)
def test_broken_engine_fails_exactly_over_the_wire(
    factory: Callable[[], object], expected: set[str]
) -> None:
    assert _failing(factory) == expected


# --- what a step means over the wire -------------------------------------------------------


def test_a_broker_call_has_reached_the_engine_when_the_case_reads_it() -> None:
    driver = WireDriver()
    stage = Stage(make_subject(), driver).start()
    try:
        assert isinstance(stage.subject, Settled)
        stage.submit("o1")
        at_broker = stage.broker_order("o1")  # the placeOrder crossed the socket
        assert at_broker.order_ref.endswith("o1")
        assert stage.status("o1") == "WORKING"  # and the acknowledgement came back
        stage.broker.fill(at_broker.perm_id, Decimal(30), Decimal("99.00"))
        assert stage.order("o1").filled == 30  # no tick, no wait: the fill is in
        assert driver.rounds > 0
    finally:
        stage.close()


def test_the_inprocess_stage_is_not_wrapped() -> None:
    stage = Stage(make_subject(), InProcessDriver())
    assert isinstance(stage.broker, SimBroker)
    assert not isinstance(stage.subject, Settled)


def test_the_endpoint_is_a_gateway_on_loopback_and_the_loop_is_current() -> None:
    driver = WireDriver()
    broker = SimBroker()
    try:
        endpoint = driver.endpoint(broker, client_id=3, account="DU1")
        assert isinstance(endpoint, WireEndpoint)
        assert (endpoint.host, endpoint.client_id, endpoint.account) == ("127.0.0.1", 3, "DU1")
        assert endpoint.port > 0
        assert isinstance(asyncio.get_event_loop(), WireLoop)
    finally:
        driver.close()
    driver.close()  # idempotent


def test_an_error_on_the_loop_fails_the_step() -> None:
    driver = WireDriver()
    driver.endpoint(SimBroker(), client_id=3, account="DU1")
    try:
        asyncio.get_event_loop().call_soon(lambda: 1 / 0)
        with pytest.raises(WireSubjectError, match="ZeroDivisionError"):
            driver.settle()
    finally:
        driver.close()


# --- the loop: virtual time and bounded quiescence ------------------------------------------


def test_timers_run_on_the_case_clock_only() -> None:
    loop = WireLoop(start=1_000.0)
    try:
        fired: list[float] = []
        loop.call_later(5, lambda: fired.append(loop.time()))
        loop.run_until_complete(loop.quiesce())
        assert fired == []  # no real time passes for the loop
        loop.follow(1_004.0)
        loop.run_until_complete(loop.quiesce())
        assert fired == []
        loop.follow(1_005.0)
        loop.run_until_complete(loop.quiesce())
        assert len(fired) == 1
        loop.follow(900.0)  # never backwards
        assert loop.time() >= fired[0]
    finally:
        loop.close()


def test_a_whole_interval_later_is_more_than_the_interval() -> None:
    """ib_async's throttle lets a request out when `now - sent > 1`: ticks of whole seconds
    must satisfy it, as a real clock does."""
    loop = WireLoop(start=0.0)
    try:
        loop.follow(1.0)
        sent = loop.time()
        loop.follow(2.0)
        assert loop.time() - sent > 1
    finally:
        loop.close()


def test_a_foreign_wait_on_a_timer_jumps_instead_of_hanging() -> None:
    loop = WireLoop(start=0.0)
    try:
        started = time.perf_counter()
        loop.run_until_complete(asyncio.sleep(3_600))  # e.g. a subject's ib.sleep(3600)
        print(f"an idle hour took {time.perf_counter() - started:.3f} s of real time")
        assert loop.time() >= 3_600
    finally:
        loop.close()


def test_endless_chatter_fails_with_a_bounded_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wire_loop, "MAX_ROUNDS", 300)

    class Echo(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.transport.write(data)  # type: ignore[attr-defined]

    loop = WireLoop(start=0.0)
    try:
        server = loop.run_until_complete(loop.create_server(Echo, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        transport, _ = loop.run_until_complete(loop.create_connection(Echo, "127.0.0.1", port))
        transport.write(b"ping")  # the two ends answer each other forever
        with pytest.raises(WireQuiescenceError, match="no quiescence after 300 rounds"):
            loop.run_until_complete(loop.quiesce())
        transport.close()
        server.close()
        loop.run_until_complete(server.wait_closed())
    finally:
        loop.close()


def test_bytes_in_flight_are_waited_for() -> None:
    """Quiet only when each end received what the other wrote."""

    class Sink(asyncio.Protocol):
        received = 0

        def data_received(self, data: bytes) -> None:
            Sink.received += len(data)

    loop = WireLoop(start=0.0)
    try:
        server = loop.run_until_complete(loop.create_server(Sink, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        transport, protocol = loop.run_until_complete(
            loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        )
        assert type(protocol) is asyncio.Protocol  # the caller's protocol, not the meter
        transport.write(b"x" * 5_000_000)  # more than the socket buffers hold
        transport.writelines([b"ab", b"cd"])
        loop.run_until_complete(loop.quiesce())
        assert Sink.received == 5_000_004
        assert loop.unsettled() == []
        transport.close()
        server.close()
        loop.run_until_complete(server.wait_closed())
    finally:
        loop.close()


def test_an_inprocess_subject_on_the_wire_is_told_which_driver_it_needs() -> None:
    class PortSubject(ReferenceSubject):
        def start(self, endpoint: object) -> None:
            endpoint.connector()  # type: ignore[attr-defined]

    stage = Stage(PortSubject(), WireDriver())
    try:
        with pytest.raises(WrongDriver, match='set driver = "inprocess"'):
            stage.start()
    finally:
        stage.close()


def test_wire_driver_without_a_tws_client_library_is_a_usage_error_saying_what_to_do(
    tmp_path,
) -> None:
    """No ib_async, ib_insync or ibapi: exit 2 with one line naming the fix, not 30 red
    cases."""
    import subprocess
    import sys

    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _NoTwsClient:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('ib_async', 'ib_insync', 'ibapi'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _NoTwsClient())\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "ibguard.kit.cli", "matrix", "--driver", "wire", "-k", "LIFE-06"],
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--driver inprocess" in lines[0]


# --- threaded mode: a blocking client (ibapi) ------------------------------------------------


def test_frames_are_counted_whatever_the_write_boundaries() -> None:
    from ibguard.kit.matrix.wire_loop import _Meter

    frames = b"".join(len(body).to_bytes(4, "big") + body for body in (b"a", b"", b"xyz" * 500))
    for cut in (1, 2, 3, 5, 7, len(frames)):
        meter = _Meter(local=("a",), peer=("b",), server=True)
        for at in range(0, len(frames), cut):
            meter.count_frames(frames[at : at + cut])
        assert meter.frames == 3, cut


class BlockingSubject(ReferenceSubject):
    """An engine on ibapi whose message loop runs on the calling thread: the smallest
    subject of the threaded mode (docs/ibapi-subject.md has the whole one)."""

    blocking_client = True

    def __init__(self) -> None:
        super().__init__()
        from ibapi.client import EClient
        from ibapi.wrapper import EWrapper

        statuses: dict[int, str] = {}
        self.statuses, self.handled, self.next_id = statuses, 0, 0

        class App(EWrapper, EClient):  # type: ignore[misc]  # ibapi is untyped
            def __init__(app) -> None:
                EWrapper.__init__(app)
                EClient.__init__(app, wrapper=app)

            def nextValidId(app, orderId: int) -> None:
                self.next_id = orderId

            def orderStatus(app, orderId: int, status: str, *rest: object) -> None:
                statuses[orderId] = status

            def error(app, *args: object) -> None:
                pass

        self.app = App()

    def start(self, endpoint: object) -> None:
        assert isinstance(endpoint, WireEndpoint)
        assert threading.current_thread() is threading.main_thread()
        self.app.connect(endpoint.host, endpoint.port, endpoint.client_id)  # blocks: served

    def catch_up(self, messages: int) -> None:
        from ibapi import comm

        deadline = time.monotonic() + 10
        while self.handled < messages and self.app.isConnected():
            assert time.monotonic() < deadline, f"{messages - self.handled} never came"
            try:
                text = self.app.msg_queue.get(timeout=0.05)
            except queue.Empty:
                continue
            self.handled += 1
            self.app.decoder.interpret(comm.read_fields(text))

    def submit(self, oms_id: str, request: object) -> None:
        from ibapi.contract import Contract
        from ibapi.order import Order

        contract, order = Contract(), Order()
        contract.symbol, contract.secType, contract.exchange = "AAPL", "STK", "SMART"
        contract.currency = "USD"
        order.action, order.totalQuantity, order.orderType, order.lmtPrice = "BUY", 100, "LMT", 99
        order.orderRef, order.eTradeOnly, order.firmQuoteOnly = oms_id, False, False
        self.app.placeOrder(self.next_id, contract, order)

    def tick(self, local_time: object) -> None:
        pass

    def stop(self) -> None:
        self.app.disconnect()


def test_a_blocking_client_connects_and_every_step_ends_caught_up() -> None:
    pytest.importorskip("ibapi")
    subject = BlockingSubject()
    driver = WireDriver()
    stage = Stage(subject, driver).start()
    try:
        assert driver.threaded
        assert subject.next_id > 0  # the handshake and startApi were served during start()
        stage.submit("o1")
        at_broker = stage.broker_order("o1")  # the placeOrder crossed the socket
        assert subject.statuses[at_broker.order_id] == "Submitted"  # and its answer is in
        stage.broker.fill(at_broker.perm_id, Decimal(100), Decimal("99.00"))
        assert subject.statuses[at_broker.order_id] == "Filled"  # no tick, no wait
        stage.broker.drop(7)
        assert not subject.app.isConnected()  # the close is a step's end too
    finally:
        stage.close()
    assert not [t for t in threading.enumerate() if t.name == "ibguard-wire-gateway"]
