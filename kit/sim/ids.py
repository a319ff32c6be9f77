"""Broker-side identifiers: permIds, per-client orderIds and IB-style execIds.

Invariants: permIds are unique and strictly increasing for the life of the broker;
orderIds are per clientId and per trading day (`new_day()` forgets which were used, so
IB can hand an old orderId out again: FAIL-05); `force_next_order_id` lets a case put the
next id anywhere, including 2^31-1 (EDGE-03). execIds look like "0000e0d5.6553a1b4.01.01":
a fixed prefix, a per-execution counter, and a correction number in the last `.NN`.
"""

from __future__ import annotations

import bisect

from ibguard.errors import UsageError

__all__ = ["MAX_ORDER_ID", "IdAllocator", "bump_exec_correction"]

MAX_ORDER_ID = 2**31 - 1


class IdAllocator:
    def __init__(
        self, *, first_perm_id: int = 1_104_000_001, exec_prefix: str = "0000e0d5"
    ) -> None:
        self._next_perm_id = first_perm_id
        self._next_order_id: dict[int, int] = {}
        self._used_today: dict[int, _IdRuns] = {}
        self._exec_prefix = exec_prefix
        self._exec_seq = 0x6553A1B4

    # -- permId --------------------------------------------------------------------------

    def new_perm_id(self) -> int:
        perm_id = self._next_perm_id
        self._next_perm_id += 1
        return perm_id

    # -- orderId -------------------------------------------------------------------------

    def next_order_id(self, client_id: int) -> int:
        """What nextValidId would say to this client now."""
        return self._next_order_id.get(client_id, 1)

    def force_next_order_id(self, client_id: int, order_id: int) -> None:
        """Make the next nextValidId for this client `order_id` (reuse or wrap)."""
        if not 1 <= order_id <= MAX_ORDER_ID:
            raise UsageError(f"orderId must be in 1..{MAX_ORDER_ID}, got {order_id}")
        self._next_order_id[client_id] = order_id

    def is_used_today(self, client_id: int, order_id: int) -> bool:
        runs = self._used_today.get(client_id)
        return runs is not None and order_id in runs

    def mark_used(self, client_id: int, order_id: int) -> None:
        runs = self._used_today.get(client_id)
        if runs is None:
            runs = self._used_today[client_id] = _IdRuns()
        runs.add(order_id)
        if order_id >= self.next_order_id(client_id) and order_id < MAX_ORDER_ID:
            self._next_order_id[client_id] = order_id + 1

    def new_day(self) -> None:
        """TWS restarted overnight: used orderIds are forgotten, permIds keep growing."""
        self._used_today.clear()

    # -- execId --------------------------------------------------------------------------

    def new_exec_id(self) -> str:
        self._exec_seq += 1
        return f"{self._exec_prefix}.{self._exec_seq:08x}.01.01"


class _IdRuns:
    """A set of ints kept as sorted, disjoint runs [start, end): clients count their
    orderIds up one by one, so a day of orders is a run or a few, not an int each."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def __contains__(self, value: int) -> bool:
        i = bisect.bisect_right(self._starts, value) - 1
        return i >= 0 and value < self._ends[i]

    def add(self, value: int) -> None:
        starts, ends = self._starts, self._ends
        i = bisect.bisect_right(starts, value) - 1  # the run starting at or before value
        if i >= 0 and value < ends[i]:
            return
        joins_left = i >= 0 and ends[i] == value
        joins_right = i + 1 < len(starts) and starts[i + 1] == value + 1
        if joins_left and joins_right:
            ends[i] = ends[i + 1]
            del starts[i + 1], ends[i + 1]
        elif joins_left:
            ends[i] = value + 1
        elif joins_right:
            starts[i + 1] = value
        else:
            starts.insert(i + 1, value)
            ends.insert(i + 1, value + 1)


def bump_exec_correction(exec_id: str) -> str:
    """The execId of a correction: same execution, last `.NN` plus one."""
    head, _, last = exec_id.rpartition(".")
    if not head or not last.isdigit():
        raise UsageError(f"not an IB execId: {exec_id!r}")
    return f"{head}.{int(last) + 1:02d}"
