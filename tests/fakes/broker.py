"""A fake BrokerPort that answers like a quiet paper account, for shell tests."""

from __future__ import annotations

from decimal import Decimal

from ibguard.engine import (
    Command,
    RequestCompletedOrders,
    RequestExecutions,
    RequestOpenOrders,
    RequestPositions,
)
from ibguard.engine.events import (
    BrokerEvent,
    CompletedOrdersSnapshot,
    ConnectionRestored,
    ExecutionsSnapshot,
    ManagedAccounts,
    NextValidId,
    OpenOrdersSnapshot,
    PositionReport,
    PositionsSnapshot,
)
from ibguard.engine.ports import BrokerPort, EventHandler


class QuietBroker(BrokerPort):
    """Empty books; `positions` lets a test make the broker disagree with the engine."""

    def __init__(self, account: str, *, accounts: tuple[str, ...] | None = None) -> None:
        self.account = account
        self.accounts = accounts or (account,)
        self.sent: list[Command] = []
        self.positions: tuple[PositionReport, ...] = ()
        self.connects = 0
        self.disconnects = 0
        self._on_event: EventHandler | None = None

    def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event

    def emit(self, event: BrokerEvent) -> None:
        assert self._on_event is not None, "start() first"
        self._on_event(event)

    async def connect(self) -> None:
        self.connects += 1
        self.emit(NextValidId(order_id=1))
        self.emit(ManagedAccounts(accounts=self.accounts))
        self.emit(ConnectionRestored(data_lost=True, client_id=1))

    async def disconnect(self) -> None:
        self.disconnects += 1

    def send(self, command: Command) -> None:
        self.sent.append(command)
        if isinstance(command, RequestOpenOrders):
            self.emit(OpenOrdersSnapshot())
        elif isinstance(command, RequestCompletedOrders):
            self.emit(CompletedOrdersSnapshot())
        elif isinstance(command, RequestExecutions):
            self.emit(ExecutionsSnapshot())
        elif isinstance(command, RequestPositions):
            self.emit(PositionsSnapshot(positions=self.positions))


def long(account: str, quantity: str) -> PositionReport:
    from ibguard.engine import Instrument

    return PositionReport(
        account=account, instrument=Instrument(symbol="AAPL", con_id=1), quantity=Decimal(quantity)
    )
