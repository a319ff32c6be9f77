"""Small broken engines: the reference engine with one realistic bug each, put in at its
connector (a `FilteringPort` rewriting what passes), its configuration, or its log.
Each docstring names the bug; test_broken_engines.py asserts exactly which cases catch it."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal

from ibguard.engine.commands import CancelOrder, Command, PlaceOrder
from ibguard.engine.config import ORDER_ID_MAX
from ibguard.engine.events import (
    BrokerError,
    BrokerEvent,
    CompletedOrdersSnapshot,
    ConnectionRestored,
    ContractDetails,
    ExecutionReport,
    ExecutionsSnapshot,
    ManagedAccounts,
    NextValidId,
    OpenOrderReport,
    OpenOrdersSnapshot,
    OrderStatusReport,
    ServerTime,
    WhatIfResult,
)
from ibguard.engine.ports import BrokerPort
from ibguard.kit.matrix.reference import ReferenceSubject
from ibguard.kit.matrix.stage import ACCOUNT, CLIENT_ID

from tests.matrix.broken_engines.filtering import AfterCancelPort, FilteringPort, with_port

__all__ = ["BROKEN"]


class TrustsHostClock(FilteringPort):
    """Takes the host's wall clock for broker time: no skew measured, EOD on local time."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ServerTime):
            event = dataclasses.replace(event, broker_time=event.local_time)
        return [event]


class StampsFillsLocally(FilteringPort):
    """Stores fill times on the host's clock instead of the broker's execution time."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.skew = timedelta(0)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ServerTime):
            self.skew = event.broker_time - event.local_time
        elif isinstance(event, ExecutionReport):
            event = dataclasses.replace(event, time=event.time - self.skew)
        return [event]


class Ignores326(FilteringPort):
    """Treats 'client id already in use' (326) and foreign orders on its clientId as noise."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code == 326:
            return []
        if isinstance(event, OpenOrderReport) and not event.order_ref:
            return []
        return [event]


class RetriesRefusedCancels(FilteringPort):
    """Sends a cancel again whenever the broker refuses one (10147/10148/161)."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.cancels: dict[int, CancelOrder] = {}

    def send(self, command: Command) -> None:
        if isinstance(command, CancelOrder):
            self.cancels[command.order_id] = command
        super().send(command)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code in (10147, 10148, 161):
            retry = self.cancels.pop(event.req_id, None)
            if retry is not None:
                super().send(retry)
        return [event]


class DropsFillsAfterCancel(AfterCancelPort):
    """Discards executions that arrive after the broker confirmed the order cancelled."""

    def late_fill(self, execution: ExecutionReport) -> list[BrokerEvent]:
        return []


class ForgetsExecIdsOnReconnect(FilteringPort):
    """Deduplicates execIds within one session only (as the TWS clients do): after a
    reconnect, the executions request's replay of an earlier execution counts again."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.this_session: set[str] = set()
        self.earlier: set[str] = set()
        self.replays = itertools.count(1)

    def _seen(self, execution: ExecutionReport) -> ExecutionReport:
        self.this_session.add(execution.exec_id)
        if execution.exec_id not in self.earlier:
            return execution
        renamed = f"{execution.exec_id}.replay{next(self.replays)}"  # the bug: a new one
        return dataclasses.replace(execution, exec_id=renamed)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ConnectionRestored):
            self.earlier |= self.this_session
            self.this_session = set()
        if isinstance(event, ExecutionReport):
            return [self._seen(event)]
        if isinstance(event, ExecutionsSnapshot):
            executions = tuple(self._seen(e) for e in event.executions)
            return [dataclasses.replace(event, executions=executions)]
        return [event]


class FloatPrices(FilteringPort):
    """Parses execution prices through float (binary drift in the VWAP)."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ExecutionReport):
            event = dataclasses.replace(event, price=Decimal(float(event.price)))
        return [event]


class ZeroIsOneShare(FilteringPort):
    """Normalises execution sizes to at least one share: a zero-share execution is a fill."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ExecutionReport) and not event.shares:
            event = dataclasses.replace(event, shares=Decimal(1))
        return [event]


class RetriesRejectedOrders(FilteringPort):
    """Resends any rejected order (flatten orders too) once under a fresh orderId."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.placed: dict[int, PlaceOrder] = {}
        self.next_id = 0

    def send(self, command: Command) -> None:
        if isinstance(command, PlaceOrder):
            self.placed[command.order_id] = command
            self.next_id = max(self.next_id, command.order_id + 1)
        super().send(command)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code == 201:
            retry = self.placed.pop(event.req_id, None)
            if retry is not None and not retry.order_ref.endswith(".retry"):
                again = f"{retry.order_ref}.retry"
                self.send(dataclasses.replace(retry, order_id=self.next_id, order_ref=again))
        return [event]


class CachedOpenOrders(FilteringPort):
    """Answers reconcile from the connector's cache of open orders merged with the broker's
    (an order the broker forgot is still 'open')."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.cache: dict[int, OpenOrderReport] = {}

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, OpenOrderReport):
            self.cache[event.perm_id] = event
        if isinstance(event, OpenOrdersSnapshot):
            fresh = {o.perm_id: o for o in event.orders}
            merged = {**self.cache, **fresh}
            self.cache = merged
            event = dataclasses.replace(event, orders=tuple(merged.values()))
        return [event]


class IgnoresWhatIf(FilteringPort):
    """Reads every what-if answer as 'margin ok'."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, WhatIfResult):
            event = dataclasses.replace(event, margin_ok=True)
        return [event]


class EveryOrderIsOurs(FilteringPort):
    """Takes every order and execution on the account as its own clientId's."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, OpenOrderReport | ExecutionReport | OrderStatusReport):
            event = dataclasses.replace(event, client_id=CLIENT_ID)
        return [event]


class IgnoresAccount(FilteringPort):
    """Never looks at the account the session manages."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ManagedAccounts):
            event = dataclasses.replace(event, accounts=(ACCOUNT,))
        return [event]


class IgnoresContractChanges(FilteringPort):
    """Drops contract details: a renamed contract goes unnoticed."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        return [] if isinstance(event, ContractDetails) else [event]


class NoOrderIdWrap(FilteringPort):
    """Counts orderIds past 2^31-1 instead of wrapping (an int32 overflow at IB)."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.next_id = 0

    def send(self, command: Command) -> None:
        if isinstance(command, PlaceOrder) and self.next_id >= ORDER_ID_MAX:
            command = dataclasses.replace(command, order_id=self.next_id)
            self.next_id += 1
        elif isinstance(command, PlaceOrder):
            self.next_id = max(self.next_id, command.order_id + 1)
        super().send(command)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, NextValidId):
            self.next_id = max(self.next_id, event.order_id)
        return [event]


class CodesWithoutFields(ReferenceSubject):
    """Logs every decision's code but none of its facts (no skew value, no exposure, no
    queue depth, no alert flag)."""

    def log_records(self) -> Sequence[Mapping[str, object]]:
        return [{"code": record["code"]} for record in super().log_records()]


class AssumesUnansweredOrdersDead(FilteringPort):
    """After a reconnect, takes an order the broker has no record of (placed, never
    answered) for cancelled, instead of leaving it NEW for the strategy to decide."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.placed: dict[str, PlaceOrder] = {}
        self.known: set[str] = set()
        self.answered: set[int] = set()  # order ids the broker said anything about

    def send(self, command: Command) -> None:
        if isinstance(command, PlaceOrder):
            self.placed[command.order_ref] = command
        super().send(command)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ConnectionRestored):
            self.known = set()
        if isinstance(event, OrderStatusReport | OpenOrderReport):
            self.answered.add(event.order_id)
        if isinstance(event, OpenOrdersSnapshot | CompletedOrdersSnapshot):
            self.known |= {order.order_ref for order in event.orders}
        if not isinstance(event, CompletedOrdersSnapshot):
            return [event]
        presumed_dead = [
            OrderStatusReport(
                order_id=placed.order_id,
                client_id=CLIENT_ID,
                perm_id=0,
                status="Cancelled",
                filled=Decimal(0),
                remaining=placed.request.quantity,
                avg_fill_price=Decimal(0),
            )
            for ref, placed in self.placed.items()
            if ref not in self.known and placed.order_id not in self.answered
        ]
        return [event, *presumed_dead]


class FlattensWithGlobalCancel(ReferenceSubject):
    """Clears the book before a flatten with one reqGlobalCancel (as ib_async's
    `reqGlobalCancel()` invites) instead of cancelling its own orders one by one: every
    order on the account goes, the operator's and other systems' too."""

    def flatten(self, reason: str) -> None:
        connector = self._connector
        assert connector is not None  # in-process: the port is the simulated broker's
        broker = connector.broker

        def cancel_everything() -> None:
            for order in broker.live_orders():
                broker.desk.cancel_order(order, "Global Cancel")

        broker.handle_request(connector._session, "reqGlobalCancel", cancel_everything)  # type: ignore[arg-type]  # a live session: the subject is started
        super().flatten(reason)


BROKEN: dict[str, Callable[[], ReferenceSubject]] = {
    "trusts-host-clock": with_port(TrustsHostClock),
    "stamps-fills-locally": with_port(StampsFillsLocally),
    "ignores-326": with_port(Ignores326),
    "retries-refused-cancels": with_port(RetriesRefusedCancels),
    "drops-fills-after-cancel": with_port(DropsFillsAfterCancel),
    "forgets-exec-ids-on-reconnect": with_port(ForgetsExecIdsOnReconnect),
    "float-prices": with_port(FloatPrices),
    "zero-is-one-share": with_port(ZeroIsOneShare),
    "retries-rejected-orders": with_port(RetriesRejectedOrders),
    "cached-open-orders": with_port(CachedOpenOrders),
    "ignores-what-if": with_port(IgnoresWhatIf),
    "every-order-is-ours": with_port(EveryOrderIsOurs),
    "ignores-account": with_port(IgnoresAccount),
    "ignores-contract-changes": with_port(IgnoresContractChanges),
    "no-order-id-wrap": with_port(NoOrderIdWrap),
    "codes-without-fields": CodesWithoutFields,
    "flattens-with-global-cancel": FlattensWithGlobalCancel,
    "assumes-unanswered-orders-dead": with_port(AssumesUnansweredOrdersDead),
    # configuration bugs: the rule exists but is switched off
    "no-stale-timer": functools.partial(ReferenceSubject, stale_after=timedelta(days=7)),
    "stocks-may-go-negative": functools.partial(
        ReferenceSubject, negative_price_sec_types=frozenset({"STK", "BAG"})
    ),
    "no-throttle": functools.partial(ReferenceSubject, max_messages_per_second=100_000),
    "no-overnight-check": functools.partial(ReferenceSubject, overnight_check_at=None),
}
