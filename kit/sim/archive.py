"""The day's archive of the simulated broker: finished orders, executions and received
requests as encoded rows in a private SQLite file, so a trading day of any size costs the
broker bounded memory.

TWS answers reqCompletedOrders and reqExecutions for the whole trading day, and a case asks
the request journal about the whole day, so the broker keeps all of it until `new_day`. As
Python objects that is about 2 KB an order; here it is a row on disk. The ledger
(`book.py`) and the journal (`observe.py`) hold the recent ones as objects and move them in
batches at the end of a broker operation; reads decode rows on demand, in booking order.

Invariants: the file lives in a fresh private temporary directory, is created on first use
(a small case never touches the disk) and is removed when the archive is closed or
collected (at the latest when the interpreter exits); a row is a dataclass's fields as plain
values, marshalled (`FlatCodec`), which only this process writes and reads; a contract is
stored once (rows hold an index into the archive's own list), since every order of a symbol
shares one; the page cache is capped (`_CACHE_KIB`), so the archive's memory does not grow
with its rows. Durability is not a goal: the file dies with the broker (no journal, no
fsync).
"""

from __future__ import annotations

import marshal
import operator
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Generic, TypeVar
from zoneinfo import ZoneInfo

from ibguard.errors import IndexOutOfRange
from ibguard.kit.sim.messages import Contract

__all__ = ["DayArchive", "FlatCodec", "micros"]

T = TypeVar("T")

# SQLite's page cache for the file (negative: KiB): what the archive may hold in memory
_CACHE_KIB: Final = 1024

_SCHEMA: Final = """
CREATE TABLE orders (
    perm_id INTEGER PRIMARY KEY, client_id INTEGER, order_id INTEGER, order_ref TEXT,
    completed_us INTEGER, body BLOB);
CREATE INDEX orders_by_ids ON orders (client_id, order_id);
CREATE INDEX orders_by_ref ON orders (order_ref);
CREATE TABLE executions (seq INTEGER PRIMARY KEY, exec_id TEXT, perm_id INTEGER, body BLOB);
CREATE INDEX executions_by_id ON executions (exec_id);
CREATE INDEX executions_by_perm ON executions (perm_id);
CREATE TABLE requests (seq INTEGER PRIMARY KEY, time_us INTEGER, body BLOB);
"""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND: Final = timedelta(microseconds=1)


def micros(when: datetime) -> int:
    """``when`` as whole microseconds since the epoch: exact, and ordered as datetimes are
    (an aware time by its instant; a naive one as if UTC, never compared with aware ones)."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
    return (aware - _EPOCH) // _MICROSECOND


class FlatCodec(Generic[T]):
    """One dataclass as a row body: its fields as plain values (Decimal as its exact text,
    a datetime as microseconds since the epoch and its zone, a contract as the archive's
    index for it, a dataclass field named in ``nested`` by its own codec), marshalled.
    Plain, so writing calls back into Python only for those; built once per class from
    the field annotations."""

    def __init__(
        self,
        cls: type[T],
        *,
        skip: tuple[str, ...] = (),
        nested: dict[str, FlatCodec[Any]] | None = None,
    ) -> None:
        self._cls = cls
        nested = nested or {}
        kept = [f for f in fields(cls) if f.name not in skip]  # type: ignore[arg-type]  # a dataclass type, typed as type[T]
        self._names = tuple(f.name for f in kept)
        self._read = operator.attrgetter(*self._names)
        self._turns: tuple[tuple[int, _Turn], ...] = tuple(
            (i, turn)
            for i, f in enumerate(kept)
            if (turn := _nested_turn(nested[f.name]) if f.name in nested else _turn(f.type))
        )

    def encode(self, value: T, archive: DayArchive) -> tuple[Any, ...]:
        got = self._read(value)
        values: list[Any] = list(got) if len(self._names) > 1 else [got]
        self._convert(values, archive, _OUT)
        return tuple(values)

    def decode(self, flat: Sequence[Any], archive: DayArchive) -> T:
        values = list(flat)
        self._convert(values, archive, _IN)
        return self._cls(**dict(zip(self._names, values, strict=True)))

    def _convert(self, values: list[Any], archive: DayArchive, side: int) -> None:
        for i, turn in self._turns:
            if values[i] is not None:
                values[i] = turn[side](values[i], archive)


# how a field that marshal cannot hold is turned into a plain value (_OUT) and back (_IN)
_Turn = tuple[Callable[[Any, "DayArchive"], Any], Callable[[Any, "DayArchive"], Any]]
_OUT, _IN = 0, 1


def _turn(annotation: object) -> _Turn | None:
    """By the field's annotation, ``X`` or ``X | None``: None when marshal holds it as is."""
    for name, turn in _TURNS.items():
        if annotation in (name, f"{name} | None"):
            return turn
    return None


def _nested_turn(codec: FlatCodec[Any]) -> _Turn:
    return (codec.encode, codec.decode)


def _time_out(when: datetime) -> tuple[int, str | int | None]:
    """(microseconds since the epoch, zone): a ZoneInfo by key, UTC as "", another fixed
    offset in microseconds, None for a naive time."""
    zone = when.tzinfo
    if zone is None:
        return micros(when), None
    if zone is timezone.utc:
        return micros(when), ""
    if isinstance(zone, ZoneInfo):
        return micros(when), zone.key
    offset = when.utcoffset()
    assert offset is not None
    return micros(when), offset // _MICROSECOND


def _time_in(flat: tuple[int, str | int | None]) -> datetime:
    us, zone = flat
    instant = _EPOCH + timedelta(microseconds=us)
    if zone is None:
        return instant.replace(tzinfo=None)
    if zone == "":
        return instant
    if isinstance(zone, str):
        return instant.astimezone(ZoneInfo(zone))
    return instant.astimezone(timezone(timedelta(microseconds=zone)))


_TURNS: Final[dict[str, _Turn]] = {
    "Decimal": (lambda value, _: str(value), lambda text, _: Decimal(text)),
    "datetime": (lambda when, _: _time_out(when), lambda flat, _: _time_in(flat)),
    "Contract": (
        lambda contract, archive: archive.contract_key(contract),
        lambda key, archive: archive.contract(key),
    ),
}


class DayArchive:
    """Rows of finished orders, executions and requests; see the module docstring."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._contracts: list[Contract] = []
        self._contract_keys: dict[int, int] = {}  # id(contract) -> index (the list keeps it)

    # --- encoding -----------------------------------------------------------------------

    def contract_key(self, contract: Contract) -> int:
        """A small int standing for ``contract`` in rows (`contract` turns it back)."""
        key = self._contract_keys.get(id(contract))
        if key is None:
            key = len(self._contracts)
            self._contracts.append(contract)
            self._contract_keys[id(contract)] = key
        return key

    def contract(self, key: int) -> Contract:
        return self._contracts[key]

    def encode(self, codec: FlatCodec[T], value: T) -> bytes:
        return marshal.dumps(codec.encode(value, self))

    def decode(self, codec: FlatCodec[T], body: bytes) -> T:
        return codec.decode(marshal.loads(body), self)

    # --- the file -----------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The file, once the first row was written (None before, and after `close`)."""
        return None if self._db is None else self._folder / "day.sqlite"

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            folder = Path(tempfile.mkdtemp(prefix="ibguard-sim-day-"))
            # the broker may be built on one thread and driven from the gateway's
            db = sqlite3.connect(
                folder / "day.sqlite", isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            db.executescript(_SCHEMA)
            self._db, self._folder = db, folder
            self._finalizer = weakref.finalize(self, _remove, db, folder)
        return self._db

    def close(self) -> None:
        """Remove the file now (otherwise when the archive is collected)."""
        if self._db is not None:
            self._finalizer()
            self._db = None

    def _rows(self, sql: str, args: Iterable[object] = ()) -> list[Any]:
        if self._db is None:
            return []
        return self._db.execute(sql, tuple(args)).fetchall()

    def _stream(self, sql: str, args: Iterable[object] = ()) -> Iterator[Any]:
        """Rows as the cursor yields them; fetched in pages so a writer may run between."""
        if self._db is None:
            return
        cursor = self._db.execute(sql, tuple(args))
        while page := cursor.fetchmany(512):
            yield from page

    # --- finished orders ----------------------------------------------------------------

    def put_orders(self, rows: list[tuple[int, int, int, str, int | None, bytes]]) -> None:
        """(perm_id, client_id, order_id, order_ref, completed_us, body): new or replaced."""
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?, ?)", rows)

    def order_body(self, perm_id: int) -> bytes | None:
        rows = self._rows("SELECT body FROM orders WHERE perm_id = ?", (perm_id,))
        return rows[0][0] if rows else None

    def latest_perm_id(self, client_id: int, order_id: int) -> int | None:
        rows = self._rows(
            "SELECT MAX(perm_id) FROM orders WHERE client_id = ? AND order_id = ?",
            (client_id, order_id),
        )
        return rows[0][0] if rows else None

    def orders_by_ref(self, order_ref: str) -> list[tuple[int, bytes]]:
        return self._rows(
            "SELECT perm_id, body FROM orders WHERE order_ref = ? ORDER BY perm_id", (order_ref,)
        )

    def orders(self) -> Iterator[tuple[int, bytes]]:
        """Every archived order, (perm_id, body) in booking (permId) order."""
        return self._stream("SELECT perm_id, body FROM orders ORDER BY perm_id")

    def order_ids(self) -> Iterator[int]:
        return (row[0] for row in self._stream("SELECT perm_id FROM orders"))

    def drop_orders_done_by(self, day_start_us: int) -> list[int]:
        """Remove the orders completed at or before ``day_start_us``; their permIds."""
        gone = [
            r[0]
            for r in self._rows(
                "SELECT perm_id FROM orders WHERE completed_us <= ?", (day_start_us,)
            )
        ]
        if gone:
            with self._transaction() as db:
                db.execute("DELETE FROM orders WHERE completed_us <= ?", (day_start_us,))
        return gone

    def drop_order(self, perm_id: int) -> None:
        """An order and its executions leave the archive (FAIL-04: no record at all)."""
        if self._db is not None:
            with self._transaction() as db:
                db.execute("DELETE FROM orders WHERE perm_id = ?", (perm_id,))
                db.execute("DELETE FROM executions WHERE perm_id = ?", (perm_id,))

    # --- executions ---------------------------------------------------------------------

    def put_executions(self, rows: list[tuple[int, str, int, bytes]]) -> None:
        """(seq, exec_id, perm_id, body), appended in booking order."""
        with self._transaction() as db:
            db.executemany("INSERT INTO executions VALUES (?, ?, ?, ?)", rows)

    def execution_body(self, exec_id: str) -> bytes | None:
        """The latest execution booked under ``exec_id``."""
        rows = self._rows(
            "SELECT body FROM executions WHERE exec_id = ? ORDER BY seq DESC LIMIT 1", (exec_id,)
        )
        return rows[0][0] if rows else None

    def execution_at(self, index: int) -> bytes:
        """The body of the ``index``-th archived execution (negative: from the end)."""
        order, offset = ("ASC", index) if index >= 0 else ("DESC", -index - 1)
        rows = self._rows(
            f"SELECT body FROM executions ORDER BY seq {order} LIMIT 1 OFFSET ?", (offset,)
        )
        if not rows:
            raise IndexOutOfRange(index)
        body: bytes = rows[0][0]
        return body

    def executions(self) -> Iterator[bytes]:
        return (row[0] for row in self._stream("SELECT body FROM executions ORDER BY seq"))

    def execution_count(self) -> int:
        rows = self._rows("SELECT COUNT(*) FROM executions")
        return rows[0][0] if rows else 0

    def drop_executions(self) -> None:
        if self._db is not None:
            with self._transaction() as db:
                db.execute("DELETE FROM executions")

    # --- requests -----------------------------------------------------------------------

    def put_requests(self, rows: list[tuple[int, int, bytes]]) -> None:
        """(seq, time_us, body), appended in arrival order."""
        with self._transaction() as db:
            db.executemany("INSERT INTO requests VALUES (?, ?, ?)", rows)

    def requests(self) -> Iterator[bytes]:
        return (row[0] for row in self._stream("SELECT body FROM requests ORDER BY seq"))

    def request_count(self) -> int:
        rows = self._rows("SELECT COUNT(*) FROM requests")
        return rows[0][0] if rows else 0

    def drop_requests_before(self, time_us: int) -> None:
        if self._db is not None:
            with self._transaction() as db:
                db.execute("DELETE FROM requests WHERE time_us < ?", (time_us,))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction (the connection runs in autocommit otherwise)."""
        db = self._conn()
        db.execute("BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _remove(db: sqlite3.Connection, folder: Path) -> None:
    db.close()
    shutil.rmtree(folder, ignore_errors=True)
