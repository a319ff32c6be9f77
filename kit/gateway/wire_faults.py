"""Wire-level faults: what happens to the server's outgoing frames on their way to a client.

Owns the armed faults that SimBroker cannot express because they live below the TWS
messages: drop the socket after the Nth frame, hold frames back (bounded real delay), send a
frame twice, swap two frames. Sans-IO: `WireFaults.treat(client_id, msg_id)` consumes the
armed faults matching one outgoing frame and returns a `Treatment`; the connection carries
it out. Faults are consumed in arming order; each matches one clientId (None: any) and
optionally one outgoing message id (None: any frame). Broker-level faults (rejects, halts,
orderId reuse, account switch, clock skew, rate limit, duplicate executions) are SimBroker's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Final, final

from ibguard.errors import UsageError
from ibguard.kit.gateway.logcodes import GatewayLogCode

__all__ = ["MAX_DELAY_SECONDS", "Treatment", "WireFaults"]

log = logging.getLogger(__name__)

# Delays are real time on the event loop; keep them short so a case never waits long.
MAX_DELAY_SECONDS: Final = 10.0


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Treatment:
    """What to do with one outgoing frame."""

    copies: int = 1  # 0: swallow it (the socket is dropped before it goes out)
    delay: float = 0.0  # seconds of real time before it (and everything after it) goes out
    hold: bool = False  # keep it back and send it after the next frame (reorder)
    drop_after: bool = False  # drop the socket once this frame is out


PASS: Final = Treatment()


@dataclass
class _Armed:
    kind: str  # drop | delay | duplicate | reorder
    client_id: int | None
    msg_id: int | None
    left: int  # frames still to count (drop) or to treat (others)
    seconds: float = 0.0

    def matches(self, client_id: int | None, msg_id: int) -> bool:
        if self.client_id is not None and self.client_id != client_id:
            return False
        return self.msg_id is None or self.msg_id == msg_id


@dataclass
class WireFaults:
    """The armed wire faults of one gateway. Arm them before or during a case."""

    _armed: list[_Armed] = field(default_factory=list)

    def drop_after(
        self, n_messages: int, *, client_id: int | None = None, msg_id: int | None = None
    ) -> None:
        """Send ``n_messages`` more matching frames, then drop the socket (0: drop at the next
        matching frame without sending it). The broker sees the session dropped."""
        if n_messages < 0:
            raise UsageError(f"drop_after needs n_messages >= 0, got {n_messages}")
        self._armed.append(_Armed("drop", client_id, msg_id, n_messages))

    def delay(
        self,
        seconds: float,
        *,
        messages: int = 1,
        client_id: int | None = None,
        msg_id: int | None = None,
    ) -> None:
        """Hold the next ``messages`` matching frames back ``seconds`` of real time; frames
        behind them wait too (TCP keeps order)."""
        if not 0 < seconds <= MAX_DELAY_SECONDS:
            raise UsageError(f"delay must be in (0, {MAX_DELAY_SECONDS}] seconds, got {seconds}")
        self._armed.append(_Armed("delay", client_id, msg_id, _positive(messages), seconds))

    def duplicate_next(
        self, messages: int = 1, *, client_id: int | None = None, msg_id: int | None = None
    ) -> None:
        """Send each of the next ``messages`` matching frames twice."""
        self._armed.append(_Armed("duplicate", client_id, msg_id, _positive(messages)))

    def reorder_next(self, *, client_id: int | None = None, msg_id: int | None = None) -> None:
        """Swap the next matching frame with the frame after it (whatever that is)."""
        self._armed.append(_Armed("reorder", client_id, msg_id, 1))

    @property
    def pending(self) -> int:
        """Armed faults not yet used up (a case can assert its faults all fired)."""
        return len(self._armed)

    def clear(self) -> None:
        self._armed.clear()

    def treat(self, client_id: int | None, msg_id: int) -> Treatment:
        """Consume the armed faults matching one outgoing frame; `PASS` when none do."""
        if not self._armed:
            return PASS
        copies, delay, hold, drop_after = 1, 0.0, False, False
        for armed in list(self._armed):
            if not armed.matches(client_id, msg_id):
                continue
            if armed.kind == "drop":
                if armed.left == 0:
                    copies = 0
                else:
                    armed.left -= 1
                    drop_after = armed.left == 0
                if copies == 0 or drop_after:
                    self._armed.remove(armed)
                    _fired("drop", client_id, msg_id)
                continue
            armed.left -= 1
            if armed.left == 0:
                self._armed.remove(armed)
            _fired(armed.kind, client_id, msg_id)
            if armed.kind == "delay":
                delay = max(delay, armed.seconds)
            elif armed.kind == "duplicate":
                copies = 2
            else:
                hold = True
        if copies == 0:
            return Treatment(copies=0)
        return Treatment(copies=copies, delay=delay, hold=hold, drop_after=drop_after)


def _positive(messages: int) -> int:
    if messages < 1:
        raise UsageError(f"messages must be at least 1, got {messages}")
    return messages


def _fired(kind: str, client_id: int | None, msg_id: int) -> None:
    log.info(
        "wire fault %s on message %s to clientId %s",
        kind,
        msg_id,
        client_id,
        extra={"code": GatewayLogCode.WIRE_FAULT, "fault": kind, "client_id": client_id},
    )
