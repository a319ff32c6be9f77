"""A small driver for engine tests: broker facts in IB's shape, and what came out.

`Scenario` owns an Engine connected to a fake broker session (nextValidId, managed
accounts, connection), records every command the engine returned and every log code it
emitted, and builds broker events with sensible defaults so a test states only what
matters to it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from ibguard.engine import (
    Command,
    Engine,
    EngineConfig,
    Instrument,
    LogCode,
    OrderRequest,
    OrderSnapshot,
    OrderType,
    PlaceOrder,
    RequestWhatIf,
    Side,
    TimeInForce,
)
from ibguard.engine.events import (
    CompletedOrdersSnapshot,
    ConnectionRestored,
    Event,
    ExecutionReport,
    ExecutionsSnapshot,
    FlattenAll,
    ManagedAccounts,
    NextValidId,
    OpenOrderReport,
    OpenOrdersSnapshot,
    OrderStatusReport,
    SubmitOrder,
    Tick,
    WhatIfResult,
)

from tests.fakes.alerts import RecordingAlerts

ACCOUNT = "DU1234567"
AAPL = Instrument(symbol="AAPL", con_id=265598)
TSLA = Instrument(symbol="TSLA", con_id=76792991)
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)  # a Tuesday, 10:00 New York


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Scenario:
    def __init__(self, config: EngineConfig | None = None, *, connect: bool = True) -> None:
        self.config = config or EngineConfig(account=ACCOUNT, client_id=7)
        self.alerts = RecordingAlerts()
        self.logger = logging.getLogger(f"tests.engine.{id(self)}")
        self.logger.setLevel(logging.DEBUG)
        self.logger.propagate = False
        self.capture = _Capture()
        self.logger.addHandler(self.capture)
        self.engine = Engine(self.config, alerts=self.alerts, logger=self.logger)
        self.sent: list[Command] = []
        self.now = T0
        self._perm = 900_000
        self._exec = 0
        if connect:
            self.connect()

    # --- driving -----------------------------------------------------------------------------

    def feed(self, *events: Event) -> list[Command]:
        out: list[Command] = []
        for event in events:
            out += self.engine.handle(event)
        self.sent += out
        return out

    def connect(self, next_id: int = 100) -> list[Command]:
        self.feed(Tick(now=self.now))
        return self.feed(
            NextValidId(order_id=next_id),
            ManagedAccounts(accounts=(ACCOUNT,)),
            ConnectionRestored(data_lost=True, client_id=self.config.client_id),
            OpenOrdersSnapshot(),
            CompletedOrdersSnapshot(),
            ExecutionsSnapshot(),
        )

    def tick(self, seconds: float = 0) -> list[Command]:
        self.now += timedelta(seconds=seconds)
        return self.feed(Tick(now=self.now))

    def submit(
        self,
        oms_id: str = "o1",
        quantity: str = "100",
        *,
        side: Side = Side.BUY,
        instrument: Instrument = AAPL,
        price: str | None = "100.00",
        tif: TimeInForce = TimeInForce.DAY,
    ) -> list[Command]:
        request = OrderRequest(
            instrument=instrument,
            side=side,
            quantity=Decimal(quantity),
            order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
            limit_price=Decimal(price) if price is not None else None,
            tif=tif,
        )
        return self.feed(SubmitOrder(oms_id=oms_id, request=request))

    def placed(self, oms_id: str) -> PlaceOrder:
        return next(c for c in self.sent if isinstance(c, PlaceOrder) and c.oms_id == oms_id)

    # --- broker facts ------------------------------------------------------------------------

    def perm_for(self, oms_id: str) -> int:
        return 900_000 + sum(ord(c) * (i + 1) for i, c in enumerate(oms_id))

    def open_order(
        self,
        oms_id: str,
        status: str = "Submitted",
        *,
        order_id: int | None = None,
        client_id: int | None = None,
        perm_id: int | None = None,
        quantity: str = "100",
        side: Side = Side.BUY,
        instrument: Instrument = AAPL,
        order_ref: str | None = None,
        account: str = ACCOUNT,
        tif: TimeInForce = TimeInForce.DAY,
    ) -> OpenOrderReport:
        place = next(
            (c for c in self.sent if isinstance(c, PlaceOrder) and c.oms_id == oms_id), None
        )
        return OpenOrderReport(
            order_id=order_id if order_id is not None else (place.order_id if place else 0),
            client_id=client_id if client_id is not None else self.config.client_id,
            perm_id=perm_id if perm_id is not None else self.perm_for(oms_id),
            order_ref=order_ref if order_ref is not None else f"ibg:{oms_id}",
            instrument=instrument,
            side=side,
            quantity=Decimal(quantity),
            order_type=OrderType.LIMIT,
            limit_price=Decimal("100.00"),
            tif=tif,
            account=account,
            status=status,
        )

    def status(
        self,
        oms_id: str,
        status: str,
        *,
        filled: str = "0",
        remaining: str = "100",
        perm_id: int | None = None,
        order_id: int | None = None,
    ) -> OrderStatusReport:
        return OrderStatusReport(
            order_id=order_id if order_id is not None else self.placed(oms_id).order_id,
            client_id=self.config.client_id,
            perm_id=perm_id if perm_id is not None else self.perm_for(oms_id),
            status=status,
            filled=Decimal(filled),
            remaining=Decimal(remaining),
            avg_fill_price=Decimal(0),
        )

    def fill(
        self,
        oms_id: str,
        shares: str,
        price: str = "100.00",
        *,
        exec_id: str | None = None,
        side: Side = Side.BUY,
        instrument: Instrument = AAPL,
        order_ref: str | None = None,
        client_id: int | None = None,
        order_id: int | None = None,
        perm_id: int | None = None,
        account: str = ACCOUNT,
        cum_qty: str = "0",
        time: datetime | None = None,
    ) -> ExecutionReport:
        if exec_id is None:
            self._exec += 1
            exec_id = f"0000e0d5.{self._exec:08x}.01.01"
        place = next(
            (c for c in self.sent if isinstance(c, PlaceOrder) and c.oms_id == oms_id), None
        )
        return ExecutionReport(
            exec_id=exec_id,
            order_id=order_id if order_id is not None else (place.order_id if place else 0),
            client_id=client_id if client_id is not None else self.config.client_id,
            perm_id=perm_id if perm_id is not None else self.perm_for(oms_id),
            order_ref=order_ref if order_ref is not None else f"ibg:{oms_id}",
            instrument=instrument,
            side=side,
            shares=Decimal(shares),
            price=Decimal(price),
            time=time or self.now,
            account=account,
            cum_qty=Decimal(cum_qty),
        )

    def working(self, oms_id: str = "o1", quantity: str = "100", **kwargs: object) -> None:
        """Submit and have the broker acknowledge it."""
        self.submit(oms_id, quantity, **kwargs)  # type: ignore[arg-type]
        self.feed(self.open_order(oms_id, quantity=quantity))

    def hold(self, oms_id: str, quantity: str, instrument: Instrument = AAPL) -> None:
        """A long position: an order of `quantity` acknowledged and filled in one piece."""
        self.working(oms_id, quantity, instrument=instrument)
        self.feed(self.fill(oms_id, quantity, instrument=instrument))

    def flatten(self, reason: str = "eod", *, margin_ok: bool = True) -> list[PlaceOrder]:
        """FlattenAll on a ready session, the what-if answered: the closing orders sent."""
        (what_if,) = self.feed(FlattenAll(reason=reason))
        assert isinstance(what_if, RequestWhatIf)
        out = self.feed(WhatIfResult(request_id=what_if.request_id, margin_ok=margin_ok))
        return [c for c in out if isinstance(c, PlaceOrder)]

    def fill_place(self, place: PlaceOrder) -> None:
        """The broker fills a placed order completely."""
        self.feed(
            self.fill(
                place.oms_id,
                str(place.request.quantity),
                side=place.request.side,
                instrument=place.request.instrument,
            )
        )

    # --- observing ---------------------------------------------------------------------------

    @property
    def codes(self) -> list[LogCode]:
        return [r.code for r in self.capture.records if hasattr(r, "code")]  # type: ignore[attr-defined]

    def records(self, code: LogCode) -> list[logging.LogRecord]:
        return [r for r in self.capture.records if getattr(r, "code", None) is code]

    def order(self, oms_id: str) -> OrderSnapshot:
        snapshot = self.engine.order(oms_id)
        assert snapshot is not None, f"no order {oms_id}"
        return snapshot

    def commands(self, kind: type) -> list[Command]:
        return [c for c in self.sent if isinstance(c, kind)]
