"""One API client session at the simulated TWS: the request surface a front calls.

Owns one method per TWS API request (IB's names in snake_case). Each goes through the
broker's intake (`Intake`: pacing, the request log, a dead socket) and is answered by the
order desk or the queries, which the session is handed; delivery of what they answer
(`delivery.py`) is not the session's business.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from ibguard.kit.sim.delivery import Client, Listener
from ibguard.kit.sim.desk import OrderDesk
from ibguard.kit.sim.messages import Contract, Order
from ibguard.kit.sim.queries import Queries

__all__ = ["ApiSession", "Intake", "Listener"]


class Intake(Protocol):
    """The broker's side of every request: refused on a dead socket, paced, recorded, then
    `action` runs; and the client closing its socket. `SimBroker` is one."""

    def handle_request(
        self,
        session: ApiSession,
        request: str,
        action: Callable[[], None],
        *,
        order_id: int | None = None,
        order_ref: str = "",
        symbol: str = "",
        what_if: bool = False,
    ) -> None: ...

    def disconnect(self, session: ApiSession) -> None: ...


class ApiSession(Client):
    """A connected API client (what one socket to TWS is). Get one from `SimBroker.connect`."""

    def __init__(
        self,
        client_id: int,
        listener: Listener,
        *,
        intake: Intake,
        desk: OrderDesk,
        queries: Queries,
    ) -> None:
        super().__init__(client_id, listener)
        self._intake = intake
        self._desk = desk
        self._queries = queries

    def __repr__(self) -> str:
        state = "connected" if self.connected else "closed"
        return f"<ApiSession clientId={self.client_id} {state}>"

    # --- orders -------------------------------------------------------------------------

    def place_order(self, order_id: int, contract: Contract, order: Order) -> None:
        """placeOrder; `order.whatIf` makes it a what-if check (answered by openOrder)."""
        self._intake.handle_request(
            self,
            "placeOrder",
            lambda: self._desk.place(self, order_id, contract, order),
            order_id=order_id,
            order_ref=order.orderRef,
            symbol=contract.symbol,
            what_if=order.whatIf,
        )

    def cancel_order(self, order_id: int) -> None:
        self._intake.handle_request(
            self, "cancelOrder", lambda: self._desk.cancel(self, order_id), order_id=order_id
        )

    # --- requests -----------------------------------------------------------------------

    def req_open_orders(self) -> None:
        q = self._queries
        self._intake.handle_request(
            self, "reqOpenOrders", lambda: q.open_orders(self, all_clients=False)
        )

    def req_all_open_orders(self) -> None:
        q = self._queries
        self._intake.handle_request(
            self, "reqAllOpenOrders", lambda: q.open_orders(self, all_clients=True)
        )

    def req_auto_open_orders(self, auto_bind: bool) -> None:
        q = self._queries
        self._intake.handle_request(
            self, "reqAutoOpenOrders", lambda: q.auto_open_orders(self, auto_bind)
        )

    def req_completed_orders(self, api_only: bool = False) -> None:
        q = self._queries
        self._intake.handle_request(
            self, "reqCompletedOrders", lambda: q.completed_orders(self, api_only)
        )

    def req_executions(
        self,
        req_id: int,
        *,
        client_id: int = 0,
        acct_code: str = "",
        time: datetime | None = None,
        symbol: str = "",
        side: str = "",
    ) -> None:
        """reqExecutions with IB's ExecutionFilter fields (0 / "" / None: no filter)."""
        q = self._queries
        self._intake.handle_request(
            self,
            "reqExecutions",
            lambda: q.executions(
                self,
                req_id,
                client_id=client_id,
                acct_code=acct_code,
                time=time,
                symbol=symbol,
                side=side,
            ),
        )

    def req_positions(self) -> None:
        q = self._queries
        self._intake.handle_request(self, "reqPositions", lambda: q.positions(self))

    def cancel_positions(self) -> None:
        def cancel() -> None:
            self.positions_subscribed = False

        self._intake.handle_request(self, "cancelPositions", cancel)

    def req_current_time(self) -> None:
        q = self._queries
        self._intake.handle_request(self, "reqCurrentTime", lambda: q.current_time(self))

    def req_ids(self, num_ids: int = 1) -> None:
        q = self._queries
        self._intake.handle_request(self, "reqIds", lambda: q.next_valid_id(self))

    def req_account_updates(self, subscribe: bool, acct_code: str) -> None:
        q = self._queries
        self._intake.handle_request(
            self, "reqAccountUpdates", lambda: q.account_updates(self, subscribe, acct_code)
        )

    def req_account_updates_multi(self, req_id: int, acct_code: str, model_code: str) -> None:
        q = self._queries
        self._intake.handle_request(
            self,
            "reqAccountUpdatesMulti",
            lambda: q.account_updates_multi(self, req_id, acct_code, model_code),
        )

    def req_account_summary(self, req_id: int, group: str, tags: str) -> None:
        q = self._queries
        self._intake.handle_request(
            self, "reqAccountSummary", lambda: q.account_summary(self, req_id, group, tags)
        )

    def req_contract_details(self, req_id: int, contract: Contract) -> None:
        q = self._queries
        self._intake.handle_request(
            self,
            "reqContractDetails",
            lambda: q.contract_details(self, req_id, contract),
            symbol=contract.symbol,
        )

    def disconnect(self) -> None:
        """The client closes its socket."""
        self._intake.disconnect(self)
