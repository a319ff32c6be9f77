"""Delivery at the simulated broker: who hears what, and in which order.

Owns the outbox that feeds every session and the routing of live messages (like TWS):
messages about an order go to the sessions of the clientId that placed it, to the master
clientId if one is configured, to clientId-0 sessions that called reqAutoOpenOrders(True)
when the order is a manual TWS order (clientId 0), and to every session when the order was
injected with `broadcast=True`. A stalled order sends nothing live. Position changes go to
sessions with an open reqPositions subscription, account changes to those subscribed to
the account by reqAccountUpdates (portfolio lines at once, account values on TWS's cadence:
`account_stream`).

Invariants: delivery is synchronous but never re-entrant: messages produced while a listener
runs (because it sent another request) are queued and delivered after it returns, in the
order they were produced; a closed session receives nothing but its last words
(error 326, `Disconnected`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping

from ibguard.kit.sim.account import Valuer
from ibguard.kit.sim.account_stream import AccountStream, Subscription
from ibguard.kit.sim.book import PositionLine, SimOrder
from ibguard.kit.sim.clock import VirtualClock
from ibguard.kit.sim.messages import Message, Position

__all__ = ["Client", "Delivery", "Listener", "Outbox"]

Listener = Callable[[Message], None]


class Client:
    """One API client as the broker's parts see it: its clientId, where its messages go, and
    what it subscribed to. `ApiSession` adds the request surface a front calls."""

    def __init__(self, client_id: int, listener: Listener) -> None:
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
        self.account_feed: Subscription | None = None  # what that subscription was told


class Outbox:
    """Queue of (session, message) delivered in production order, never re-entrantly."""

    def __init__(self) -> None:
        self._queue: deque[tuple[Client, Message, bool]] = deque()
        self._flushing = False

    def post(self, session: Client, message: Message, *, even_if_closed: bool = False) -> None:
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


class Delivery:
    """Routes the broker's messages to the connected sessions (`sessions`, by clientId)."""

    def __init__(
        self,
        sessions: Mapping[int, Client],
        *,
        master_client_id: int | None,
        valuer: Valuer,
        clock: VirtualClock,
    ) -> None:
        self._sessions = sessions
        self._master_client_id = master_client_id
        self._valuer = valuer
        self._clock = clock
        self._outbox = Outbox()
        self.accounts: AccountStream[Client] = AccountStream(valuer, clock, self._outbox.post)

    def post(self, session: Client, message: Message, *, even_if_closed: bool = False) -> None:
        self._outbox.post(session, message, even_if_closed=even_if_closed)

    def post_about(self, order: SimOrder, message: Message) -> None:
        """A live message about `order`, to every session that hears about it."""
        if order.muted:
            return
        if not order.broadcast and order.client_id != 0 and self._master_client_id is None:
            # only the placing clientId hears: one look-up, not a pass over every session
            placer = self._sessions.get(order.client_id)
            if placer is not None:
                self.post(placer, message)
            return
        for session in self._sessions.values():
            if self._hears(session, order):
                self.post(session, message)

    def post_all(self, message: Message) -> None:
        for session in self._sessions.values():
            self.post(session, message)

    def post_position_update(self, line: PositionLine) -> None:
        """A position changed: tell every session with an open reqPositions subscription."""
        update = Position(
            account=line.account,
            contract=line.contract,
            position=line.position,
            avgCost=line.average_cost,
        )
        post = self._outbox.post  # once per subscribed session for every fill
        for session in self._sessions.values():
            if session.positions_subscribed:
                post(session, update)

    def post_account_update(self, line: PositionLine) -> None:
        """A fill moved `line`: its portfolio line to the sessions subscribed to its account
        by reqAccountUpdates now, the account values on TWS's cadence (`AccountStream`)."""
        listeners = [s for s in self._sessions.values() if s.account_subscription == line.account]
        if listeners:
            self.accounts.position_moved(listeners, line)
            self.refresh_accounts()

    def refresh_accounts(self) -> None:
        """Send every subscribed session whose account refresh is due what changed."""
        self.accounts.refresh(
            (s, s.account_feed)
            for s in self._sessions.values()
            if s.account_feed is not None and s.account_subscription is not None
        )

    def flush(self) -> None:
        self._outbox.flush()

    def _hears(self, session: Client, order: SimOrder) -> bool:
        cid = session.client_id
        if order.broadcast or cid in (order.client_id, self._master_client_id):
            return True
        return order.client_id == 0 and cid == 0 and session.auto_bind
