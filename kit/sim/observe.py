"""Broker-side observation: every request the simulated TWS received, in arrival order.

Owns the request journal a case asserts on without asking the engine anything: "no
cancel sent", "nothing sent after the halt", "never more than N requests per second",
"one placeOrder per orderRef". Invariants: records are appended in arrival order with
the broker time of arrival and never change (a new trading day drops the previous day's);
past a few hundred they live as rows in the day's archive (`archive.py`), read back in order;
a request the rate limiter dropped is still recorded (`accepted=False`), since the client did
send it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from ibguard.kit.sim.archive import DayArchive, FlatCodec, micros

__all__ = ["RequestLog", "RequestRecord"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    seq: int
    time: datetime
    client_id: int
    request: str  # IB request name: placeOrder, cancelOrder, reqOpenOrders, ...
    order_id: int | None = None
    order_ref: str = ""
    symbol: str = ""
    what_if: bool = False
    accepted: bool = True


_REQUEST_ROW = FlatCodec(RequestRecord)


class RequestLog:
    """The journal; beyond ``keep`` records it moves them to ``archive`` as rows (`settle`)."""

    def __init__(self, archive: DayArchive | None = None, *, keep: int = 500) -> None:
        self._archive = archive or DayArchive()
        self._keep = keep
        self._records: list[RequestRecord] = []  # the newest, not archived yet
        self._archived = 0
        self._next_seq = 0

    def record(
        self,
        *,
        time: datetime,
        client_id: int,
        request: str,
        order_id: int | None = None,
        order_ref: str = "",
        symbol: str = "",
        what_if: bool = False,
        accepted: bool = True,
    ) -> RequestRecord:
        rec = RequestRecord(
            seq=self._next_seq,
            time=time,
            client_id=client_id,
            request=request,
            order_id=order_id,
            order_ref=order_ref,
            symbol=symbol,
            what_if=what_if,
            accepted=accepted,
        )
        self._records.append(rec)
        self._next_seq += 1
        return rec

    def settle(self) -> None:
        """The end of a broker operation: more than ``keep`` records move to the archive."""
        if len(self._records) > self._keep:
            encode = self._archive.encode
            self._archive.put_requests(
                [(r.seq, micros(r.time), encode(_REQUEST_ROW, r)) for r in self._records]
            )
            self._archived += len(self._records)
            self._records = []

    def prune_before(self, day_start: datetime) -> None:
        """A new trading day: earlier requests leave the journal (bounded by one day's
        traffic); sequence numbers keep counting, so older bookmarks stay valid."""
        self._records = [r for r in self._records if r.time >= day_start]
        if self._archived:
            self._archive.drop_requests_before(micros(day_start))
            self._archived = self._archive.request_count()

    def __iter__(self) -> Iterator[RequestRecord]:
        if self._archived:
            decode = self._archive.decode
            yield from (decode(_REQUEST_ROW, body) for body in self._archive.requests())
        yield from self._records

    def __len__(self) -> int:
        return self._archived + len(self._records)

    def all(self) -> tuple[RequestRecord, ...]:
        return tuple(self)

    def of(self, request: str, *, client_id: int | None = None) -> tuple[RequestRecord, ...]:
        """Records of one request kind (optionally from one client), in arrival order."""
        return tuple(
            r
            for r in self
            if r.request == request and (client_id is None or r.client_id == client_id)
        )

    def placed(self, *, client_id: int | None = None) -> tuple[RequestRecord, ...]:
        """Real placeOrder requests (what-if checks excluded)."""
        return tuple(r for r in self.of("placeOrder", client_id=client_id) if not r.what_if)

    def cancels(self, *, client_id: int | None = None) -> tuple[RequestRecord, ...]:
        return self.of("cancelOrder", client_id=client_id)

    def since(self, when: datetime) -> tuple[RequestRecord, ...]:
        return tuple(r for r in self if r.time >= when)

    def after_seq(self, seq: int) -> tuple[RequestRecord, ...]:
        return tuple(r for r in self if r.seq > seq)

    def mark(self) -> int:
        """A bookmark: pass it to `after_seq` to see only later requests."""
        return self._next_seq - 1

    def placements_per_ref(self) -> Counter[str]:
        return Counter(r.order_ref for r in self.placed() if r.order_ref)

    def max_rate(
        self, *, client_id: int | None = None, window: timedelta = timedelta(seconds=1)
    ) -> int:
        """Most requests received in any `window` of broker time (sliding); startApi,
        which TWS does not pace, is not counted."""
        times = [
            r.time
            for r in self
            if r.request != "startApi" and (client_id is None or r.client_id == client_id)
        ]
        best = 0
        start = 0
        for end, t in enumerate(times):
            while t - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best
