"""One API client session at the simulated TWS, and the outbox that feeds all sessions.

Owns the request surface a front calls (one method per TWS API request, IB's names in
snake_case) and delivery of outbound messages to the session's listener. Invariants:
delivery is synchronous but never re-entrant: messages produced while a listener runs
(because it sent another request) are queued and delivered after it returns, in the
order they were produced; a closed session receives nothing but its last words
(error 326, `Disconnected`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from ibguard.kit.sim.messages import Contract, Message, Order

if TYPE_CHECKING:
    from ibguard.kit.sim.broker import SimBroker

__all__ = ["ApiSession", "Listener", "Outbox"]

Listener = Callable[[Message], None]


class ApiSession:
    """A connected API client (what one socket to TWS is). Get one from `SimBroker.connect`."""

    def __init__(self, broker: SimBroker, client_id: int, listener: Listener) -> None:
        self._broker = broker
        self.client_id = client_id
        self.listener = listener
        self.connected = True
        self.auto_bind = False
        # TWS keeps a reqPositions subscription open and pushes position changes. A front
        # opts in (the socket gateway does; the in-process connector reads snapshots only).
        self.live_position_updates = False
        self.positions_subscribed = False
        # the account of an open reqAccountUpdates subscription (fills stream its updates)
        self.account_subscription: str | None = None

    def __repr__(self) -> str:
        state = "connected" if self.connected else "closed"
        return f"<ApiSession clientId={self.client_id} {state}>"

    # --- orders -------------------------------------------------------------------------

    def place_order(self, order_id: int, contract: Contract, order: Order) -> None:
        """placeOrder; `order.whatIf` makes it a what-if check (answered by openOrder)."""
        self._broker.handle_request(
            self,
            "placeOrder",
            lambda: self._broker.desk.place(self, order_id, contract, order),
            order_id=order_id,
            order_ref=order.orderRef,
            symbol=contract.symbol,
            what_if=order.whatIf,
        )

    def cancel_order(self, order_id: int) -> None:
        self._broker.handle_request(
            self, "cancelOrder", lambda: self._broker.desk.cancel(self, order_id), order_id=order_id
        )

    # --- requests -----------------------------------------------------------------------

    def req_open_orders(self) -> None:
        q = self._broker.queries
        self._broker.handle_request(
            self, "reqOpenOrders", lambda: q.open_orders(self, all_clients=False)
        )

    def req_all_open_orders(self) -> None:
        q = self._broker.queries
        self._broker.handle_request(
            self, "reqAllOpenOrders", lambda: q.open_orders(self, all_clients=True)
        )

    def req_auto_open_orders(self, auto_bind: bool) -> None:
        q = self._broker.queries
        self._broker.handle_request(
            self, "reqAutoOpenOrders", lambda: q.auto_open_orders(self, auto_bind)
        )

    def req_completed_orders(self, api_only: bool = False) -> None:
        q = self._broker.queries
        self._broker.handle_request(
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
        q = self._broker.queries
        self._broker.handle_request(
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
        q = self._broker.queries
        self._broker.handle_request(self, "reqPositions", lambda: q.positions(self))

    def cancel_positions(self) -> None:
        def cancel() -> None:
            self.positions_subscribed = False

        self._broker.handle_request(self, "cancelPositions", cancel)

    def req_current_time(self) -> None:
        q = self._broker.queries
        self._broker.handle_request(self, "reqCurrentTime", lambda: q.current_time(self))

    def req_ids(self, num_ids: int = 1) -> None:
        q = self._broker.queries
        self._broker.handle_request(self, "reqIds", lambda: q.next_valid_id(self))

    def req_account_updates(self, subscribe: bool, acct_code: str) -> None:
        q = self._broker.queries
        self._broker.handle_request(
            self, "reqAccountUpdates", lambda: q.account_updates(self, subscribe, acct_code)
        )

    def req_account_updates_multi(self, req_id: int, acct_code: str, model_code: str) -> None:
        q = self._broker.queries
        self._broker.handle_request(
            self,
            "reqAccountUpdatesMulti",
            lambda: q.account_updates_multi(self, req_id, acct_code, model_code),
        )

    def req_account_summary(self, req_id: int, group: str, tags: str) -> None:
        q = self._broker.queries
        self._broker.handle_request(
            self, "reqAccountSummary", lambda: q.account_summary(self, req_id, group, tags)
        )

    def req_contract_details(self, req_id: int, contract: Contract) -> None:
        q = self._broker.queries
        self._broker.handle_request(
            self,
            "reqContractDetails",
            lambda: q.contract_details(self, req_id, contract),
            symbol=contract.symbol,
        )

    def disconnect(self) -> None:
        """The client closes its socket."""
        self._broker.disconnect(self)


class Outbox:
    """Queue of (session, message) delivered in production order, never re-entrantly."""

    def __init__(self) -> None:
        self._queue: deque[tuple[ApiSession, Message, bool]] = deque()
        self._flushing = False

    def post(self, session: ApiSession, message: Message, *, even_if_closed: bool = False) -> None:
        """Queue a message; `even_if_closed` for the last words on a closing socket."""
        self._queue.append((session, message, even_if_closed))

    def flush(self) -> None:
        if self._flushing:
            return  # the outer flush delivers what was just queued
        self._flushing = True
        try:
            while self._queue:
                session, message, even_if_closed = self._queue.popleft()
                if session.connected or even_if_closed:
                    session.listener(message)
        finally:
            self._flushing = False
