"""The product promise: an unmodified ib_async (or ib_insync) engine is tested by pointing it
at a port. The engine below is a team's, not ibguard's: it calls `ib.placeOrder`,
`ib.cancelOrder`, reads `ib.fills()` and the trades' status, and uses the library's
synchronous API (`ib.connect`, `ib.sleep`). Its subject is written as
docs/ib-async-subject.md says, and the matrix's wire driver runs it unchanged."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from ibguard.engine.model import Instrument, OrderRequest
from ibguard.kit.matrix.drivers import WireDriver
from ibguard.kit.matrix.reference import CodeCapture
from ibguard.kit.matrix.runner import play
from ibguard.kit.matrix.stage import CaseFailure
from ibguard.kit.matrix.subject import Endpoint, OrderView, Subject, WireEndpoint

STATUS = {
    "PendingSubmit": "NEW",  # set by the library itself: the broker has not answered yet
    "ApiPending": "NEW",
    "PreSubmitted": "WORKING",
    "Submitted": "WORKING",
    "PendingCancel": "CANCEL_PENDING",
    "ApiCancelled": "CANCELED",
    "Cancelled": "CANCELED",
    "Filled": "FILLED",
    "Inactive": "REJECTED",
}
PREFIX = "team:"
_names = itertools.count()


class TeamEngine:
    """A small execution engine on a connected `IB`, the way teams write them."""

    def __init__(self, lib: ModuleType, ib: Any, account: str, *, careless: bool) -> None:
        self.lib, self.ib, self.account, self.careless = lib, ib, account, careless
        self.log = logging.getLogger(f"team_engine.{next(_names)}")
        self.trades: dict[str, Any] = {}
        ib.execDetailsEvent += self._on_fill
        ib.openOrderEvent += self._on_open_order

    def submit(self, oms_id: str, request: OrderRequest) -> None:
        contract = self.lib.Stock(request.instrument.symbol, "SMART", "USD")
        side, quantity = request.side.value, float(request.quantity)
        if request.limit_price is None:
            order = self.lib.MarketOrder(side, quantity)
        else:
            order = self.lib.LimitOrder(side, quantity, float(request.limit_price))
        order.orderRef, order.account, order.tif = PREFIX + oms_id, self.account, request.tif.value
        self.trades[oms_id] = self.ib.placeOrder(contract, order)

    def cancel(self, oms_id: str) -> None:
        trade = self.trades.get(oms_id)
        if trade is not None and not trade.isDone():
            self.ib.cancelOrder(trade.order)

    def _counts(self, shares: Decimal, price: Decimal) -> bool:
        return self.careless or (shares > 0 and price > 0)

    def _on_fill(self, trade: Any, fill: Any) -> None:
        shares, price = Decimal(str(fill.execution.shares)), Decimal(str(fill.execution.price))
        if self.careless:
            return
        if shares <= 0:
            self.log.warning("zero-share execution", extra={"code": "FILL_ZERO_QTY"})
        elif price <= 0:
            self.log.error("execution at a price <= 0", extra={"code": "NEGATIVE_PRICE"})

    def _on_open_order(self, trade: Any) -> None:
        if not trade.order.orderRef.startswith(PREFIX):
            self.log.warning("not our order", extra={"code": "FOREIGN_ORDER"})

    def fills(self, oms_id: str | None = None) -> list[tuple[Decimal, Decimal, int]]:
        """(shares, price, sign) of our executions, once per execId (ib.fills() dedups)."""
        wanted = None if oms_id is None else PREFIX + oms_id
        out = []
        for fill in self.ib.fills():
            execution = fill.execution
            ref = execution.orderRef or ""
            if not ref.startswith(PREFIX) or (wanted is not None and ref != wanted):
                continue
            shares, price = Decimal(str(execution.shares)), Decimal(str(execution.price))
            if self._counts(shares, price):
                out.append((shares, price, 1 if execution.side == "BOT" else -1))
        return out

    def order(self, oms_id: str) -> OrderView | None:
        trade = self.trades.get(oms_id)
        if trade is None:
            return None
        fills = self.fills(oms_id)
        filled = sum((q for q, _, _ in fills), Decimal(0))
        name = STATUS.get(trade.orderStatus.status, "NEW")
        if name == "WORKING" and filled:
            name = "PARTIALLY_FILLED"
        vwap = sum(q * p for q, p, _ in fills) / filled if filled else None
        return OrderView(
            status=name, filled=filled, avg_fill_price=vwap, perm_id=trade.order.permId or None
        )

    def position(self, symbol: str) -> Decimal:
        return sum((q * s for q, _, s in self.fills()), Decimal(0))


class TeamSubject(Subject):
    """As docs/ib-async-subject.md: connect with the library's own API to the endpoint."""

    def __init__(self, lib: ModuleType, *, careless: bool = False) -> None:
        self.lib, self.careless = lib, careless
        self.codes = CodeCapture()
        self.ib: Any = None
        self.engine: TeamEngine | None = None

    def start(self, endpoint: Endpoint) -> None:
        if not isinstance(endpoint, WireEndpoint):
            raise TypeError('set driver = "wire": this engine connects by host and port')
        self.endpoint = endpoint
        self.ib = self.lib.IB()
        self.ib.connect(endpoint.host, endpoint.port, clientId=endpoint.client_id)
        self.engine = TeamEngine(self.lib, self.ib, endpoint.account, careless=self.careless)
        self.engine.log.addHandler(self.codes)
        self.engine.log.propagate = False

    def _engine(self) -> TeamEngine:
        assert self.engine is not None
        return self.engine

    def submit(self, oms_id: str, request: OrderRequest) -> None:
        self._engine().submit(oms_id, request)

    def cancel(self, oms_id: str) -> None:
        self._engine().cancel(oms_id)

    def tick(self, local_time: datetime) -> None:
        if not self.ib.isConnected():  # the nightly TWS restart: connect again
            endpoint = self.endpoint
            self.ib.connect(endpoint.host, endpoint.port, clientId=endpoint.client_id)
        self.ib.sleep(0)  # let the library read the socket (the kit's driver runs its loop)

    def order(self, oms_id: str) -> OrderView | None:
        return self._engine().order(oms_id)

    def position(self, instrument: Instrument) -> Decimal:
        return self._engine().position(instrument.symbol)

    @property
    def halted(self) -> bool:
        return False

    def log_codes(self) -> Sequence[str]:
        return self.codes.codes

    def stop(self) -> None:
        if self.ib is not None:
            self.ib.disconnect()


TEAM_CASES = ["LIFE-04", "LIFE-06", "EDGE-01", "SEC-01"]


@pytest.mark.parametrize("library", ["ib_async", "ib_insync"])
@pytest.mark.parametrize("case_id", TEAM_CASES)
def test_a_team_engine_on_the_library_passes_over_the_wire(library: str, case_id: str) -> None:
    lib = pytest.importorskip(library)
    play(case_id, lambda: TeamSubject(lib), WireDriver)


@pytest.mark.parametrize("library", ["ib_async", "ib_insync"])
def test_a_careless_team_engine_fails_the_cases_about_its_bug(library: str) -> None:
    """Counting every execution as it comes (no zero-share or price check) fails EDGE-01 and
    LIFE-06, and nothing else of these."""
    lib = pytest.importorskip(library)
    failed = set()
    for case_id in TEAM_CASES:
        try:
            play(case_id, lambda: TeamSubject(lib, careless=True), WireDriver)
        except CaseFailure:
            failed.add(case_id)
    assert failed == {"EDGE-01", "LIFE-06"}
