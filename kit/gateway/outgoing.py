"""The frames queued for one socket until the loop step's write, where a newer position or
portfolio snapshot replaces an older one still queued.

position (61) and portfolioValue (7) carry absolute values (the position, its average cost,
market value and P&L), never deltas, so a newer one for the same (account, conId) makes an
older one still waiting for the same socket worthless: the older one is dropped and the newer
one keeps its own place, at the end of the queue, after every execution it reflects. The
client loses only an intermediate value it could not have told from TWS publishing once after
both fills, as TWS does (docs/tws-protocol-notes.md). Both still leave in the step that
produced them.

Invariants: frames leave in the order they were queued, except a snapshot replaced by a newer
one for its key; a barrier (the end of an answer: positionEnd, accountDownloadEnd) protects
everything queued before it, so an answer keeps every row. The connection queues a frame the
wire faults handle with `append`, never as a snapshot: a fault acts on a real frame, and no
later snapshot replaces what it sent.
"""

from __future__ import annotations

from typing import Final

from ibguard.kit.gateway.message_ids import Out
from ibguard.kit.sim.messages import Message, PortfolioValue, Position

__all__ = ["OutgoingFrames", "SnapshotKey", "snapshot_key"]

SnapshotKey = tuple[int, str, int]  # (message id, account, conId)

_POSITION: Final = int(Out.POSITION_DATA)
_PORTFOLIO_VALUE: Final = int(Out.PORTFOLIO_VALUE)


def snapshot_key(message: Message) -> SnapshotKey | None:
    """The key under which a newer ``message`` replaces an older queued one; None for a
    message that is never replaced."""
    if isinstance(message, Position):
        return (_POSITION, message.account, message.contract.conId)
    if isinstance(message, PortfolioValue):
        return (_PORTFOLIO_VALUE, message.accountName, message.contract.conId)
    return None


class OutgoingFrames:
    """Frames waiting for one socket's next write."""

    __slots__ = ("_frames", "_latest")

    def __init__(self) -> None:
        self._frames: list[bytes] = []
        # where the newest queued snapshot of each key sits in `_frames`, since the last barrier
        self._latest: dict[SnapshotKey, int] = {}

    def __bool__(self) -> bool:
        return bool(self._frames)

    def append(self, frame: bytes) -> None:
        self._frames.append(frame)

    def append_snapshot(self, key: SnapshotKey, frame: bytes) -> bool:
        """Queue ``frame``, dropping the queued snapshot of ``key`` it supersedes; True when
        one was dropped."""
        frames = self._frames
        older = self._latest.get(key)
        self._latest[key] = len(frames)
        frames.append(frame)
        if older is None:
            return False
        frames[older] = b""
        return True

    def barrier(self) -> None:
        """Nothing queued so far is replaced by what comes later."""
        self._latest.clear()

    def take(self) -> bytes:
        """Every queued frame, in order, as one write; the queue is empty after."""
        data = b"".join(self._frames)
        self._frames.clear()
        self._latest.clear()
        return data
