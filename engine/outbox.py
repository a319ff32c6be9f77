"""The outbox: every command leaves through the message throttle, and a command dropped
before it left is undone where it was decided.

IB drops messages over its per-second rate (error 100), so the throttle queues what the
rate does not allow and lets it out on later events, in order (EDGE-04). Queued commands
die with the session (a disconnect, a halt): a placeOrder that never left makes its order
NEW again, a cancelOrder that never left puts its order back in its live state.
"""

from __future__ import annotations

from datetime import datetime

from ibguard.engine.commands import CancelOrder, Command, PlaceOrder
from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.desk import OrderDesk
from ibguard.engine.logcodes import LogCode
from ibguard.engine.throttle import MessageThrottle

__all__ = ["Outbox"]


class Outbox:
    __slots__ = ("_desk", "_limit", "_log", "_throttle", "waiting")

    def __init__(self, config: EngineConfig, desk: OrderDesk, log: DecisionLog) -> None:
        self._desk = desk
        self._log = log
        self._limit = config.max_messages_per_second
        self._throttle: MessageThrottle[Command] = MessageThrottle(self._limit)
        self.waiting = False  # commands wait for the rate (read on every event)

    @property
    def depth(self) -> int:
        return self._throttle.depth

    def send(self, commands: list[Command], now: datetime | None) -> list[Command]:
        """Queue `commands` behind anything waiting; return what the rate lets go now."""
        throttle = self._throttle
        before = throttle.depth
        out = throttle.submit(commands, now)
        self.waiting = throttle.depth > 0
        if throttle.depth > before:
            self._log.warning(
                LogCode.RATE_LIMIT,
                "message rate limit reached: commands queued in order",
                queued=throttle.depth,
                limit=self._limit,
            )
        return out

    def withdraw_place(self, oms_id: str) -> None:
        """A cancel for an order still waiting to be placed: it never goes."""
        queued = self._throttle.withdraw(lambda c: isinstance(c, PlaceOrder) and c.oms_id == oms_id)
        self.waiting = self._throttle.depth > 0
        if isinstance(queued, PlaceOrder):
            self._desk.never_sent(queued)

    def drop(self) -> None:
        """Commands waiting for the rate that will never go: undo what they meant."""
        dropped = self._throttle.clear()
        self.waiting = False
        for command in dropped:
            if isinstance(command, PlaceOrder):
                self._desk.never_sent(command)
            elif isinstance(command, CancelOrder):
                self._desk.cancel_not_sent(command)

    def reset(self) -> None:
        """Forget the queue and the rate window (after a replay: nothing was really sent)."""
        self._throttle.reset()
        self.waiting = False
