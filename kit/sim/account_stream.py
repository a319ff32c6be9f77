"""The reqAccountUpdates stream on TWS's cadence.

TWS sends a subscribed session the portfolio line of a position as soon as a fill moves it,
but refreshes account values on a timer (about every 3 minutes), and then only the keys whose
value changed since that session last heard them, followed by accountUpdateTime. The sim does
the same on broker time: `position_moved` posts the portfolio line at once; `refresh` (after a
fill, and whenever broker time advances) sends each subscribed session whose refresh is due
the changed keys. Invariants: a session hears a key again only when its value changed; nothing
is sent to a session more often than `ACCOUNT_REFRESH` apart, except portfolio lines; the full
download of reqAccountUpdates is the baseline the first refresh compares against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final, Generic, TypeVar

from ibguard.kit.sim.account import Valuer
from ibguard.kit.sim.book import PositionLine
from ibguard.kit.sim.clock import VirtualClock
from ibguard.kit.sim.messages import AccountUpdateTime, AccountValue, Message

__all__ = ["ACCOUNT_REFRESH", "AccountStream", "Subscription"]

ACCOUNT_REFRESH: Final = timedelta(minutes=3)

_Key = tuple[str, str]  # (key, currency)
S = TypeVar("S")  # a session, as the caller's `post` takes it


class Subscription:
    """What one session's reqAccountUpdates subscription has been told, and when."""

    __slots__ = ("account", "refreshed_at", "sent")

    def __init__(self, account: str, refreshed_at: datetime) -> None:
        self.account = account
        self.refreshed_at = refreshed_at
        self.sent: dict[_Key, str | Decimal] = {}


class AccountStream(Generic[S]):
    """Posts account updates to subscribed sessions through ``post(session, message)``."""

    def __init__(
        self, valuer: Valuer, clock: VirtualClock, post: Callable[[S, Message], None]
    ) -> None:
        self._valuer = valuer
        self._clock = clock
        self._post = post

    def subscribe(
        self, account: str, values: Iterable[tuple[str, str | Decimal, str]]
    ) -> Subscription:
        """A full download was just sent: it is the baseline of later refreshes."""
        subscription = Subscription(account, self._clock.broker_now())
        subscription.sent = {(key, currency): value for key, value, currency in values}
        return subscription

    def position_moved(self, listeners: Iterable[S], line: PositionLine) -> None:
        """A fill moved ``line``: its portfolio line to each listener now."""
        item = self._valuer.portfolio_value(line)
        for session in listeners:
            self._post(session, item)

    def refresh(self, subscribed: Iterable[tuple[S, Subscription]]) -> None:
        """Send each subscription whose refresh is due the keys that changed."""
        now = self._clock.broker_now()
        valued: dict[str, dict[_Key, str | Decimal]] = {}
        for session, sub in subscribed:
            if now - sub.refreshed_at < ACCOUNT_REFRESH:
                continue
            sub.refreshed_at = now
            current = valued.get(sub.account)
            if current is None:
                values = self._valuer.valuation(sub.account).values
                current = valued[sub.account] = {(k, c): v for k, v, c in values}
            changed = [(k, v) for k, v in current.items() if sub.sent.get(k) != v]
            if not changed:
                continue
            for (key, currency), value in changed:
                message = AccountValue(
                    key=key, value=value, currency=currency, accountName=sub.account
                )
                self._post(session, message)
                sub.sent[(key, currency)] = value
            self._post(session, AccountUpdateTime(time=now))
