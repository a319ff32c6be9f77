"""Broken engines whose one bug only one case or variant catches (#13: "each new case and
variant has a broken engine that fails exactly it"). Each is the reference engine with a
narrow, realistic bug put in at its connector (a `FilteringPort`) or its order view; each
docstring names the bug. test_broken_engines.py asserts the single test id that catches it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from ibguard.engine.commands import Command, PlaceOrder
from ibguard.engine.events import (
    BrokerError,
    BrokerEvent,
    CompletedOrdersSnapshot,
    ConnectionRestored,
    ExecutionReport,
    ExecutionsSnapshot,
    OpenOrderReport,
    OpenOrdersSnapshot,
    OrderStatusReport,
)
from ibguard.engine.model import OrderSnapshot, Side, Status
from ibguard.engine.ports import BrokerPort
from ibguard.kit.matrix.reference import ReferenceSubject
from ibguard.kit.matrix.stage import CLIENT_ID

from tests.matrix.broken_engines.filtering import AfterCancelPort, FilteringPort, with_port
from tests.matrix.broken_engines.watching import Watching, WatchingSubject

__all__ = ["BROKEN_ALONE"]


class ReconcileMatchesByAckedIds(FilteringPort):
    """Matches a reconcile's open orders to its own by the broker ids an acknowledgement
    taught it: an order whose acknowledgement was lost with the socket is never matched
    (its orderRef is not consulted), so it stays NEW while it works at the broker."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.answered: set[int] = set()

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, OpenOrderReport | OrderStatusReport | ExecutionReport):
            self.answered.add(event.order_id)
        elif isinstance(event, OpenOrdersSnapshot):
            unanswered = self.sent_orders.keys() - self.answered
            known = tuple(o for o in event.orders if o.order_id not in unanswered)
            event = dataclasses.replace(event, orders=known)
        return [event]


class LateBuysHaveNoCash(AfterCancelPort):
    """Releases a BUY order's reserved cash when its cancel is confirmed, then drops a late
    BUY fill that finds no reservation left to charge (a SELL reserves nothing)."""

    def late_fill(self, execution: ExecutionReport) -> list[BrokerEvent]:
        return [] if execution.side is Side.BUY else [execution]


class LateSellsNeedInventory(AfterCancelPort):
    """Checks a fill that arrives after the cancel against a long-only inventory: a late
    SELL with nothing held to sell is dropped as impossible (it would make a short)."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.held: dict[str, Decimal] = {}

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        out = super().events(event)
        for kept in out:
            if isinstance(kept, ExecutionReport):
                key = kept.instrument.symbol
                signed = kept.shares if kept.side is Side.BUY else -kept.shares
                self.held[key] = self.held.get(key, Decimal(0)) + signed
        return out

    def late_fill(self, execution: ExecutionReport) -> list[BrokerEvent]:
        held = self.held.get(execution.instrument.symbol, Decimal(0))
        short = execution.side is Side.SELL and held < execution.shares
        return [] if short else [execution]


class SkipsReplaysWithNothingNew(FilteringPort):
    """After a reconnect, skips unread an executions replay that holds nothing it has not
    seen: no duplicate is ever looked at, so none is on record (FILL_DUPLICATE)."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.seen: set[str] = set()

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ExecutionReport):
            self.seen.add(event.exec_id)
        elif isinstance(event, ExecutionsSnapshot):
            ids = {e.exec_id for e in event.executions}
            if ids and ids <= self.seen:
                return [dataclasses.replace(event, executions=(), commissions=())]
            self.seen |= ids
        return [event]


class ReplaysOnlyConfirm(FilteringPort):
    """Reads the executions replay after a reconnect as a re-send of what it already has:
    an execution it has not seen (one made while it was away) is skipped, as if every fill
    had been pushed live."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.seen: set[str] = set()
        self.sessions = 0

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ConnectionRestored):
            self.sessions += 1
        elif isinstance(event, ExecutionReport):
            self.seen.add(event.exec_id)
        elif isinstance(event, ExecutionsSnapshot) and self.sessions > 1:
            known = tuple(e for e in event.executions if e.exec_id in self.seen)
            event = dataclasses.replace(event, executions=known)
        return [event]


class Waits1101ToEndOutage(FilteringPort):
    """Takes only 1101 for the end of a TWS-IB outage: 1102 (restored, data maintained) is
    read as a notice, so the orders held during the outage never go out."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code == 1102:
            return []
        return [event]


class RecoveryIgnoresErrors(ReferenceSubject):
    """Treats every broker error during its recovery after a restart as transient (the
    crash left 'noise' behind): a 326 on the recovery connect is not a halt."""

    boots = 0

    def wrap_port(self, port: BrokerPort) -> BrokerPort:
        self.boots += 1
        return _Drops326(port) if self.boots > 1 else port


class _Drops326(FilteringPort):
    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code == 326:
            return []
        return [event]


def _correction_of(exec_id: str, known: dict[str, ExecutionReport]) -> ExecutionReport | None:
    """The execution `exec_id` corrects (same prefix, an earlier `.NN`), if known."""
    prefix, _, _ = exec_id.rpartition(".")
    return next((e for i, e in known.items() if i.rpartition(".")[0] == prefix), None)


class _Corrections(FilteringPort):
    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.known: dict[str, ExecutionReport] = {}

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, ExecutionReport):
            first = _correction_of(event.exec_id, self.known)
            self.known.setdefault(event.exec_id, event)
            if first is not None and first.exec_id != event.exec_id:
                event = self.corrected(first, event)
        return [event]

    def corrected(self, first: ExecutionReport, fix: ExecutionReport) -> ExecutionReport:
        return fix


class CorrectionsKeepThePrice(_Corrections):
    """Applies a correction's shares but keeps the price of the fill it corrects (a
    correction is taken for a quantity amendment): the VWAP never follows it."""

    def corrected(self, first: ExecutionReport, fix: ExecutionReport) -> ExecutionReport:
        return dataclasses.replace(fix, price=first.price)


class CorrectionsArePriceRevisions(_Corrections):
    """Reads every correction as a price revision (IB's pendingPriceRevision): the new
    price is applied, the corrected shares are not."""

    def corrected(self, first: ExecutionReport, fix: ExecutionReport) -> ExecutionReport:
        return dataclasses.replace(fix, shares=first.shares)


def _notice_table_without(code: int) -> type[FilteringPort]:
    class NoticeTableWithout(FilteringPort):
        def events(self, event: BrokerEvent) -> list[BrokerEvent]:
            if isinstance(event, BrokerError) and event.code == code and event.req_id > 0:
                event = dataclasses.replace(event, code=202)  # not a notice: the order ended
            return [event]

    NoticeTableWithout.__doc__ = (
        f"Its table of notices (codes that leave an order live) lacks {code}, so {code} "
        "with an order's id is read as the order's end (202)."
    )
    return NoticeTableWithout


def _refusal_read_as_done(code: int, why: str) -> type[FilteringPort]:
    class RefusalReadAsDone(FilteringPort):
        def events(self, event: BrokerEvent) -> list[BrokerEvent]:
            if isinstance(event, BrokerError) and event.code == code:
                event = dataclasses.replace(event, code=202)  # read as the cancel's answer
            return [event]

    RefusalReadAsDone.__doc__ = (
        f"Reads the cancel refusal {code} ({why}) as the cancel's confirmation: the order is "
        "marked cancelled while the broker works or has filled it."
    )
    return RefusalReadAsDone


class FilledStateClosesTheOrder(FilteringPort):
    """Takes 10148's "state: Filled" for the fill's news: the order is closed as filled on
    the spot (a Filled status of its whole quantity) and the executions that follow are
    dropped as already accounted for."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.perm_of: dict[int, int] = {}
        self.closed: set[int] = set()

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, OpenOrderReport | OrderStatusReport) and event.perm_id:
            self.perm_of[event.order_id] = event.perm_id
        elif isinstance(event, ExecutionReport) and event.order_id in self.closed:
            return []
        elif isinstance(event, ExecutionsSnapshot):
            kept = tuple(e for e in event.executions if e.order_id not in self.closed)
            event = dataclasses.replace(event, executions=kept)
        elif isinstance(event, BrokerError) and event.code == 10148 and "Filled" in event.message:
            placed = self.sent_orders.get(event.req_id)
            if placed is not None:
                self.closed.add(event.req_id)
                quantity = placed.request.quantity
                done = OrderStatusReport(
                    order_id=event.req_id,
                    client_id=CLIENT_ID,
                    perm_id=self.perm_of.get(event.req_id, 0),
                    status="Filled",
                    filled=quantity,
                    remaining=Decimal(0),
                    avg_fill_price=placed.request.limit_price or Decimal(0),
                )
                return [event, done]
        return [event]


class ReusesRefusedIds(FilteringPort):
    """Hands an orderId the broker refused as a duplicate (103) back to its allocator: the
    next order goes out under the same refused id."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.refused: list[int] = []

    def send(self, command: Command) -> None:
        if isinstance(command, PlaceOrder) and self.refused:
            command = dataclasses.replace(command, order_id=self.refused.pop())
        super().send(command)

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code == 103:
            self.refused.append(event.req_id)
        return [event]


class TopsUpUnsolicitedCancels(FilteringPort):
    """Answers a part-filled order the broker cancelled on its own (202: an IOC remainder,
    a DAY close) by placing the unfilled rest again, as if the cancel were a glitch."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.told_202: set[int] = set()

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code == 202:
            self.told_202.add(event.req_id)
        elif (
            isinstance(event, OrderStatusReport)
            and event.status == "Cancelled"
            and event.filled > 0
            and event.order_id in self.told_202
            and event.order_id not in self.sent_cancels
            and event.order_id in self.sent_orders
        ):
            _place_again(self, event.order_id, event.filled)
        return [event]


def _place_again(port: FilteringPort, order_id: int, filled: Decimal) -> None:
    """Send order `order_id` again for what is left of it, under the next orderId."""
    first = port.sent_orders[order_id]
    rest = dataclasses.replace(first.request, quantity=first.request.quantity - filled)
    port.send(dataclasses.replace(first, order_id=max(port.sent_orders) + 1, request=rest))


class ReplacesServerCancels(FilteringPort):
    """Places an order again when the broker cancels it with nothing filled and no request
    from us (202), taking the cancel for a glitch; it knows only an expiry is final, so an
    OCA sibling cancelled because its partner filled comes back to life."""

    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.server_cancelled: set[int] = set()

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if (
            isinstance(event, BrokerError)
            and event.code == 202
            and "expired" not in event.message
            and event.req_id not in self.sent_cancels
        ):
            self.server_cancelled.add(event.req_id)
        elif (
            isinstance(event, OrderStatusReport)
            and event.status == "Cancelled"
            and event.filled == 0
            and event.order_id in self.server_cancelled
            and event.order_id in self.sent_orders
        ):
            self.server_cancelled.discard(event.order_id)
            _place_again(self, event.order_id, event.filled)
        return [event]


class GtdExpiryIsAReject(FilteringPort):
    """Reads a 202 whose reason is a goodTillDate ("GTD ...") as the broker refusing the
    order's date (201): the expired order ends REJECTED, not CANCELED."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, BrokerError) and event.code == 202 and "GTD" in event.message:
            event = dataclasses.replace(event, code=201)
        return [event]


class RejectEndsALiveOrder(WatchingSubject):
    """Ends an order REJECTED the moment a 201 arrives while it is live, before the status
    that follows says part of it filled (and a terminal state never moves)."""

    def seen(self, view: OrderSnapshot, watching: Watching, order_id: int) -> OrderSnapshot:
        live = order_id in watching.rejected and order_id not in watching.rejected_after_end
        if live and view.filled > 0:
            return dataclasses.replace(view, status=Status.REJECTED)
        return view


class LastWordWins(WatchingSubject):
    """Lets the broker's last word on an order decide its end: a 201 that comes after the
    Cancelled status turns the finished order REJECTED."""

    def seen(self, view: OrderSnapshot, watching: Watching, order_id: int) -> OrderSnapshot:
        if order_id in watching.rejected_after_end:
            return dataclasses.replace(view, status=Status.REJECTED)
        return view


class CancelConfirmedOnlyByStatus(WatchingSubject):
    """Settles a cancel that was in flight when the socket died only by an orderStatus
    Cancelled: one the broker applied before the drop (known from the reconcile, with no
    status pushed) stays pending for good."""

    def seen(self, view: OrderSnapshot, watching: Watching, order_id: int) -> OrderSnapshot:
        lost = order_id in watching.cancel_lost and order_id not in watching.cancel_confirmed
        if view.status is Status.CANCELED and lost:
            return dataclasses.replace(view, status=Status.CANCEL_PENDING)
        return view


class FilledZeroMeansNothing(WatchingSubject):
    """Reads an orderStatus Filled with filled 0 (the completed-order form TWS re-sends)
    as the broker's word that nothing filled: the order's view drops its fills."""

    def seen(self, view: OrderSnapshot, watching: Watching, order_id: int) -> OrderSnapshot:
        if order_id in watching.filled_nothing:
            return dataclasses.replace(view, filled=Decimal(0), avg_fill_price=None)
        return view


class RecoveredFillsCountedTwice(ReferenceSubject):
    """Recovering after a restart, books a finished order's fill from the completed order
    (the broker says Filled) and then the same fill again from the executions replay."""

    boots = 0

    def wrap_port(self, port: BrokerPort) -> BrokerPort:
        self.boots += 1
        return _CompletedThenReplayed(port) if self.boots > 1 else port


class _CompletedThenReplayed(FilteringPort):
    def __init__(self, inner: BrokerPort) -> None:
        super().__init__(inner)
        self.recovering = True
        self.completed: set[int] = set()

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        if isinstance(event, CompletedOrdersSnapshot) and self.recovering:
            self.completed |= {o.perm_id for o in event.orders if o.status == "Filled"}
        elif isinstance(event, ExecutionsSnapshot) and self.recovering:
            self.recovering = False
            twice = tuple(
                dataclasses.replace(e, exec_id=f"{e.exec_id}.completed")
                for e in event.executions
                if e.perm_id in self.completed
            )
            event = dataclasses.replace(event, executions=event.executions + twice)
        return [event]


class _PrintedTimes(FilteringPort):
    """Re-reads each execution time from the wall clock TWS printed it in (its login's
    zone, as the SimBroker is configured), the way a decoder with one zone bug would. The
    in-process port carries decoded times, so the bug is played on what TWS printed."""

    def events(self, event: BrokerEvent) -> list[BrokerEvent]:
        broker = getattr(self.inner, "broker", None)  # in-process: the SimBroker
        if broker is None or not isinstance(event, ExecutionReport):
            return [event]
        zone = broker.config.tws_time_zone
        wall = event.time.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        read = self.read(wall, zone) if broker.config.tws_prints_zone else self.zoneless(wall)
        return [event if read is None else dataclasses.replace(event, time=read)]

    def read(self, wall: datetime, zone: str) -> datetime | None:
        """`wall` printed with `zone`; None: read right."""
        return None

    def zoneless(self, wall: datetime) -> datetime | None:
        """`wall` printed with no zone (in TWS's login zone); None: read right."""
        return None


class EasternIsEst(_PrintedTimes):
    """Reads 'US/Eastern' as a fixed UTC-05:00 (EST, 'the exchange's zone') all year: a
    summer fill, printed in daylight time, is stored an hour late."""

    def read(self, wall: datetime, zone: str) -> datetime | None:
        return wall.replace(tzinfo=timezone(timedelta(hours=-5))) if zone == "US/Eastern" else None


class ZonelessIsUtc(_PrintedTimes):
    """Reads an execution time printed with no zone as UTC (right for IB's
    'YYYYMMDD-HH:MM:SS' form), though older TWS builds print 'YYYYMMDD HH:MM:SS' in their
    login zone."""

    def zoneless(self, wall: datetime) -> datetime | None:
        return wall.replace(tzinfo=timezone.utc)


class AreaCityZonesOnly(_PrintedTimes):
    """Accepts only Area/City zone names (and UTC): IB's 'MET' is taken for a typo and the
    time read in US/Eastern, TWS's default zone."""

    def read(self, wall: datetime, zone: str) -> datetime | None:
        if "/" in zone or zone == "UTC":
            return None
        return wall.replace(tzinfo=ZoneInfo("US/Eastern"))


class StrptimeZone(_PrintedTimes):
    """Parses the time with `strptime(..., "%Y%m%d %H:%M:%S %Z")` first: %Z accepts 'UTC'
    but yields a naive datetime, which is then read in the host's zone (America/Chicago);
    other names fall through to a ZoneInfo parse that reads them right."""

    def read(self, wall: datetime, zone: str) -> datetime | None:
        return wall.replace(tzinfo=ZoneInfo("America/Chicago")) if zone == "UTC" else None


BROKEN_ALONE: dict[str, Callable[[], ReferenceSubject]] = {
    "reconcile-matches-by-acked-ids": with_port(ReconcileMatchesByAckedIds),
    "late-buys-have-no-cash": with_port(LateBuysHaveNoCash),
    "late-sells-need-inventory": with_port(LateSellsNeedInventory),
    "skips-replays-with-nothing-new": with_port(SkipsReplaysWithNothingNew),
    "replays-only-confirm": with_port(ReplaysOnlyConfirm),
    "waits-1101-to-end-outage": with_port(Waits1101ToEndOutage),
    "recovery-ignores-errors": RecoveryIgnoresErrors,
    "cancel-confirmed-only-by-status": CancelConfirmedOnlyByStatus,
    "filled-zero-means-nothing": FilledZeroMeansNothing,
    "recovered-fills-counted-twice": RecoveredFillsCountedTwice,
    "corrections-keep-the-price": with_port(CorrectionsKeepThePrice),
    "corrections-are-price-revisions": with_port(CorrectionsArePriceRevisions),
    "notices-without-10349": with_port(_notice_table_without(10349)),
    "notices-without-404": with_port(_notice_table_without(404)),
    "notices-without-399": with_port(_notice_table_without(399)),
    "notices-without-2109": with_port(_notice_table_without(2109)),
    "filled-state-closes-the-order": with_port(FilledStateClosesTheOrder),
    "not-found-means-cancelled": with_port(_refusal_read_as_done(10147, "order not found")),
    "not-cancellable-means-cancelled": with_port(
        _refusal_read_as_done(161, "not in a cancellable state")
    ),
    "reuses-refused-ids": with_port(ReusesRefusedIds),
    "eastern-is-est": with_port(EasternIsEst),
    "area-city-zones-only": with_port(AreaCityZonesOnly),
    "zoneless-is-utc": with_port(ZonelessIsUtc),
    "strptime-zone": with_port(StrptimeZone),
    "tops-up-unsolicited-cancels": with_port(TopsUpUnsolicitedCancels),
    "replaces-server-cancels": with_port(ReplacesServerCancels),
    "gtd-expiry-is-a-reject": with_port(GtdExpiryIsAReject),
    "reject-ends-a-live-order": RejectEndsALiveOrder,
    "last-word-wins": LastWordWins,
}
