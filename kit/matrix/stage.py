"""The stage a case plays on: one SimBroker, one driver's endpoint, one subject.

Owns what every case needs and nothing case-specific: building instruments and order
requests the broker knows, moving virtual time (and ticking the subject with the host's
clock reading), reading the subject's order views in one normalised shape, looking at the
broker's own records of our orders, and failing in money terms (`CaseFailure`).

Invariant: time moves only through this stage (broker clock first, then a tick with the
local clock reading), so subject and broker always agree on "now" up to the scripted skew.

Under a driver that is not synchronous (the wire driver: bytes cross a socket), `broker` and
`subject` are `Settled` views: every attribute read and every call on them starts and ends
at a quiescent point (`driver.settle()`), so a case reads the same state after each step as
it does in-process, where a broker call reaches the engine before it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast, final

from ibguard.engine.model import Instrument, OrderRequest, OrderType, Side, TimeInForce
from ibguard.kit.matrix.drivers import Driver
from ibguard.kit.matrix.subject import LOG_RECORDS, Subject, WireEndpoint
from ibguard.kit.matrix.subject_calls import CallLog, SubjectError, Tracked
from ibguard.kit.sim.book import SimOrder
from ibguard.kit.sim.broker import BrokerConfig, SimBroker
from ibguard.kit.sim.clock import VirtualClock

__all__ = [
    "ACCOUNT",
    "CLIENT_ID",
    "CaseFailure",
    "CaseNotPlayable",
    "OrderFacts",
    "Settled",
    "Stage",
    "StageMaker",
    "WrongDriver",
]

ACCOUNT = "DU1234567"
CLIENT_ID = 7


class WrongDriver(TypeError):
    """The subject plugs into the other kind of endpoint than the driver gives it."""


class CaseFailure(AssertionError):
    """The subject did something a careful execution engine must not; says so in money terms."""


class CaseNotPlayable(Exception):
    """The case's situation cannot be set up against this subject (e.g. its client never
    lets the broker reuse an orderId): nothing to judge, so the case is skipped with why."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFacts:
    oms_id: str
    status: str
    filled: Decimal
    avg_fill_price: Decimal | None
    perm_id: int | None
    recovered: bool
    pending_reconcile: bool
    last_fill_at: datetime | None = None  # broker time of the last fill, when the view has it
    shows_fill_time: bool = False  # the view has `last_fill_at` at all


class Settled:
    """`target` as a case sees it under an asynchronous driver: settle, read or call,
    settle again. Values read through it (a view, the broker's request log) are the real
    objects; only the access itself is a synchronisation point."""

    __slots__ = ("_calling", "_settle", "_target")

    def __init__(
        self,
        target: object,
        settle: Callable[[], None],
        calling: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_settle", settle)
        object.__setattr__(self, "_calling", calling)  # the context a call runs in

    def __getattr__(self, name: str) -> Any:
        settle = self._settle
        settle()
        value = getattr(self._target, name)
        if not callable(value) or isinstance(value, type):
            return value
        calling = self._calling

        def settled(*args: Any, **kwargs: Any) -> Any:
            with calling():
                result = value(*args, **kwargs)
            settle()
            return result

        return settled

    def __setattr__(self, name: str, value: object) -> None:
        self._settle()
        setattr(self._target, name, value)
        self._settle()

    def __repr__(self) -> str:
        return f"Settled({self._target!r})"


def _status_name(value: object) -> str:
    return str(getattr(value, "value", value)).upper()


class Stage:
    def __init__(
        self,
        subject: Subject,
        driver: Driver,
        *,
        broker: BrokerConfig | None = None,
        start: datetime | None = None,
        skew_seconds: float | Decimal = 0,
        calls: CallLog | None = None,
    ) -> None:
        config = broker or BrokerConfig(accounts=(ACCOUNT,))
        clock = VirtualClock(start or config.start, skew_seconds)
        self.broker = self._broker = SimBroker(config, clock=clock)
        # every subject call is logged: an exception or a hang names the method it came from
        subject = cast(Subject, Tracked(subject, calls or CallLog()))
        self.subject = self._tracked = subject
        self.driver = driver
        if not driver.synchronous:
            self.broker = cast(SimBroker, Settled(self._broker, driver.settle))
            # a subject call runs with the gateway serving (threaded mode: see WireDriver)
            self.subject = cast(Subject, Settled(subject, driver.settle, driver.calling))
        self.figures: dict[str, str] = {}
        self.started = False
        self.stopped = False

    # --- setup and time -----------------------------------------------------------------

    def start(self) -> Stage:
        endpoint = self.driver.endpoint(
            self._broker, client_id=CLIENT_ID, account=ACCOUNT, subject=self._tracked
        )
        try:
            self.subject.start(endpoint)
        except SubjectError as raised:
            error = raised.error
            if (
                isinstance(endpoint, WireEndpoint)
                and isinstance(error, AttributeError)
                and error.name == "connector"
            ):
                raise WrongDriver(
                    "the subject asked for endpoint.connector(): it trades through ibguard's "
                    'in-process port, so set driver = "inprocess" in [tool.ibguard] (or pass '
                    "--driver inprocess); the default driver is the wire (fake TWS gateway)"
                ) from error
            raise
        self.started = True
        self.tick()
        return self

    def close(self) -> None:
        try:
            if self.started and not self.stopped:
                self.stopped = True
                self.subject.stop()
        finally:
            self.driver.close()

    def close_now(self) -> None:
        """Stop the subject and let go of the broker's books (a big case frees memory)."""
        self.stop_subject()
        self.driver.close()

    def stop_subject(self) -> None:
        """Stop the subject now (a case that must release its files before it ends)."""
        if self.started and not self.stopped:
            self.stopped = True
            self.subject.stop()

    def tick(self) -> None:
        self.subject.tick(self.broker.clock.local_now())

    def settle(self) -> None:
        """Wait until subject and broker have seen everything the other sent (a no-op
        in-process; cases rarely need it: every broker and subject access settles)."""
        self.driver.settle()

    def advance(self, seconds: float, *, step: float | None = None) -> None:
        """Move time forward by `seconds`, ticking the subject every `step` seconds."""
        step = step or seconds
        left = seconds
        while left > 0:
            move = min(step, left)
            self.broker.advance(move)
            self.tick()
            left -= move

    def advance_to(self, when: datetime) -> None:
        self.broker.clock.set(when)
        self.tick()

    @property
    def now(self) -> datetime:
        return self.broker.clock.broker_now()

    # --- instruments and orders -----------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        listing = self.broker.contracts.resolve(symbol)
        con_id = listing.contract.conId if listing is not None else 0
        return Instrument(symbol=symbol, con_id=con_id)

    def request(
        self,
        symbol: str = "AAPL",
        quantity: int | str = 100,
        *,
        side: Side = Side.BUY,
        limit: str | None = "99.00",
        tif: TimeInForce = TimeInForce.DAY,
    ) -> OrderRequest:
        """A limit 1.00 away from the market rests; `limit=None` is a market order."""
        return OrderRequest(
            instrument=self.instrument(symbol),
            side=side,
            quantity=Decimal(str(quantity)),
            order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
            limit_price=None if limit is None else Decimal(limit),
            tif=tif,
        )

    def submit(
        self, oms_id: str, symbol: str = "AAPL", quantity: int | str = 100, **options: object
    ) -> None:
        self.subject.submit(oms_id, self.request(symbol, quantity, **options))  # type: ignore[arg-type]  # request() checks them

    def order(self, oms_id: str) -> OrderFacts:
        view = self.subject.order(oms_id)
        if view is None:
            raise CaseFailure(f"the engine has no order {oms_id}: it lost track of it")
        return OrderFacts(
            oms_id=oms_id,
            status=_status_name(view.status),  # type: ignore[attr-defined]  # views are duck-typed (subject.py)
            filled=Decimal(view.filled),  # type: ignore[attr-defined]  # idem
            avg_fill_price=view.avg_fill_price,  # type: ignore[attr-defined]  # idem
            perm_id=getattr(view, "perm_id", None),
            recovered=bool(getattr(view, "recovered", False)),
            pending_reconcile=bool(getattr(view, "pending_reconcile", False)),
            last_fill_at=getattr(view, "last_fill_at", None),
            shows_fill_time=hasattr(view, "last_fill_at"),
        )

    def status(self, oms_id: str) -> str:
        return self.order(oms_id).status

    # --- broker-side observation ------------------------------------------------------------

    def broker_orders(self, oms_id: str) -> tuple[SimOrder, ...]:
        """Broker orders whose orderRef carries `oms_id` (alone or after a namespace)."""
        return tuple(
            o
            for o in self.broker.orders()
            if o.order_ref == oms_id or o.order_ref.endswith(":" + oms_id)
        )

    def broker_order(self, oms_id: str) -> SimOrder:
        orders = self.broker_orders(oms_id)
        if len(orders) != 1:
            raise CaseFailure(
                f"expected one broker order for {oms_id}, the broker holds {len(orders)}"
            )
        return orders[0]

    def placed_refs(self) -> list[str]:
        return [r.order_ref for r in self.broker.requests.placed()]

    # --- log codes and expectations ----------------------------------------------------------

    @property
    def codes(self) -> Sequence[str]:
        return self.subject.log_codes()

    def expect(self, condition: bool, message: str) -> None:
        if not condition:
            raise CaseFailure(message)

    def records(self) -> Sequence[Mapping[str, object]] | None:
        """The subject's log records with their fields, None when it does not offer them."""
        if LOG_RECORDS not in self.subject.capabilities:
            return None
        try:
            return list(self.subject.log_records())
        except SubjectError as raised:
            if isinstance(raised.error, NotImplementedError):
                return None  # declared (e.g. copied from the reference) but not there
            raise

    def records_of(self, code: str) -> list[Mapping[str, object]]:
        """The records with `code` (empty when the subject offers no records)."""
        return [r for r in self.records() or () if str(r.get("code")) == code]

    def expect_code(self, code: str, **fields: object) -> None:
        """`code` was logged; with `fields`, by one record carrying them (a value, or a
        predicate on the field's value). Checked as far as the subject lets the kit see."""
        if not fields:
            if code not in self.codes:
                raise CaseFailure(f"the engine never logged {code}: the decision is not on record")
            return

        def carries(record: Mapping[str, object]) -> bool:
            return all(
                name in record
                and (want(record[name]) if callable(want) else _same(record[name], want))
                for name, want in fields.items()
            )

        wanted = ", ".join(
            f"{name}={'<check>' if callable(want) else want!r}" for name, want in fields.items()
        )
        self.expect_record(code, carries, wanted)

    def expect_record(
        self, code: str, predicate: Callable[[Mapping[str, object]], bool], why: str
    ) -> Mapping[str, object] | None:
        """One record with `code` satisfies `predicate` (`why` says what it must carry).
        A subject without log records is checked on the code alone; the report says so
        (figure `fields_unchecked`). Returns the matching record when there is one."""
        self.expect_code(code)
        records = self.records()
        if records is None:
            noted = self.figures.get("fields_unchecked")
            note = f"{code}: {why}"
            self.figures["fields_unchecked"] = f"{noted}; {note}" if noted else note
            return None
        found = [r for r in records if str(r.get("code")) == code]
        for record in found:
            if predicate(record):
                return record
        shown = "; ".join(_fields(r) for r in found[-3:])
        raise CaseFailure(
            f"the engine logged {code} {len(found)} time(s) but no record carries {why} "
            f"(seen: {shown}): the decision's facts are not on record"
        )

    def expect_status(self, oms_id: str, *wanted: str, why: str) -> OrderFacts:
        facts = self.order(oms_id)
        if facts.status not in wanted:
            raise CaseFailure(f"{oms_id} is {facts.status}, expected {'/'.join(wanted)}: {why}")
        return facts


def _same(seen: object, wanted: object) -> bool:
    return seen == wanted or str(getattr(seen, "value", seen)) == str(wanted)


def _fields(record: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in record.items() if k != "code") or "no fields"


@dataclass
class StageMaker:
    """Builds the stages of one case (a case may play several variants) and closes them."""

    subject_factory: Callable[[], Subject]
    driver_factory: Callable[[], Driver]
    variant: str = ""  # the catalog variant being played ("" for a case without variants)
    calls: CallLog = field(default_factory=CallLog)
    stages: list[Stage] = field(default_factory=list)

    def __call__(self, **options: object) -> Stage:
        with self.calls.call("factory()"):
            subject = self.subject_factory()
        stage = Stage(subject, self.driver_factory(), calls=self.calls, **options)  # type: ignore[arg-type]  # Stage checks its keywords
        self.stages.append(stage)
        return stage

    def codes(self) -> list[str]:
        return [code for stage in self.stages if stage.started for code in stage.codes]

    def figures(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for stage in self.stages:
            merged.update(stage.figures)
        return merged

    def close(self) -> None:
        for stage in self.stages:
            stage.close()


STALE_AFTER = timedelta(minutes=5)
