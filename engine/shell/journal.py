"""The write-ahead journal: every event is stored in SQLite before the engine handles it.

The engine core is deterministic, so replaying the journal into a fresh Engine rebuilds
the book exactly (orders, fills, positions, ids) after a crash or a restart. SQLite in WAL
mode with synchronous=NORMAL: a committed event survives the process dying at any point
(an OS crash may lose the last few, which the broker reconciliation then recovers). A batch
of events (`append_all`) is one transaction: all of it is stored, or none of it. A row
holds one event (its type name in `kind`) or a whole batch (`kind` "batch"); journals
written before batch rows existed read the same. A journal open in one process cannot be
opened by another (`JournalInUse`) until it is closed or that process ends.

Invariants:
- an absent file is a fresh start: the journal is built under a temporary name and renamed
  into place, so a crash while creating it never leaves a half-made journal behind;
- an existing file must be a journal: a 0-byte file, another database or one whose events
  table is gone raises `JournalCorrupt` (never a silent empty book); so does a bad row,
  naming its sequence number.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from ibguard.engine.errors import ConfigError
from ibguard.engine.events import Event
from ibguard.engine.ports import Journal
from ibguard.engine.shell.event_codec import (
    JournalCorrupt,
    decode_batch,
    decode_event,
    encode_batch,
    encode_event,
)

__all__ = ["BATCH_KIND", "JournalInUse", "SqliteJournal"]

# seq is the rowid: rows are never deleted, so it only grows (journals made before this
# version declared it AUTOINCREMENT, which reads the same and writes a little slower)
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS events (
    seq  INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
)
"""
_INSERT: Final = "INSERT INTO events (kind, body) VALUES (?, ?)"
# A batch of events (one socket read) is one row of this kind: the JSON array of their
# format-2 rows. One row per batch instead of one per event: SQLite's cost is mostly per
# row and per commit, and a batch is written, committed and replayed whole anyway.
BATCH_KIND: Final = "batch"
_EVENTS_PER_ROW: Final = 100  # larger batches: rows of this many, in one transaction


# Pages of new journals. Each commit writes every page it touched to the WAL whole (a new
# leaf, its parent and the header page when the file grows): 2 KiB pages write ~1/3 fewer
# bytes per batch row than SQLite's default 4 KiB (one row of 20 fills: 10.6 us a commit
# against 12.6; a lone event: 3.6 against 5.1). Journals made before keep theirs.
_PAGE_SIZE: Final = 2048

_LOCK_WAIT: Final = 1.0  # seconds to wait for a journal another process holds


class JournalInUse(ConfigError):
    """Another process has the journal open: one journal, one service."""


class SqliteJournal(Journal):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.exists():
            _create(self.path)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=_LOCK_WAIT)
        try:
            # This service alone: set before the first read, so SQLite keeps the WAL index
            # in memory, takes no file locks per commit (six fcntl calls each) and holds the
            # file until closed; a second service on the same journal is refused here.
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            _check_is_journal(self._db, self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # checkpoints (the only fsyncs in this mode) every 10,000 pages of WAL (~20 MB with
            # new journals' 2 KiB pages), not every 1,000
            self._db.execute("PRAGMA wal_autocheckpoint=10000")
            self._db.execute("BEGIN IMMEDIATE")  # the write lock, taken now and kept
            self._db.execute("COMMIT")
        except BaseException as error:
            self._db.close()
            if not (isinstance(error, sqlite3.OperationalError) and "locked" in str(error)):
                raise
            raise JournalInUse(
                [
                    f"journal {self.path} is in use by another process (another `ibguard "
                    "engine run`?): stop it, or choose another --journal"
                ]
            ) from None

    def append(self, event: Event) -> None:
        self._db.execute(_INSERT, (type(event).__name__, encode_event(event)))

    def append_all(self, events: Sequence[Event]) -> None:
        """Store `events` in order in one transaction (one commit for the whole batch)."""
        count = len(events)
        if count < 2:
            for event in events:
                self.append(event)
            return
        db = self._db
        if count <= _EVENTS_PER_ROW:  # one statement: a transaction of its own
            db.execute(_INSERT, _batch_row(events))
            return
        rows = [
            _batch_row(events[start : start + _EVENTS_PER_ROW])
            for start in range(0, count, _EVENTS_PER_ROW)
        ]
        db.execute("BEGIN")
        try:
            db.executemany(_INSERT, rows)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def events(self) -> Iterator[Event]:
        """Every event in the order it was written; JournalCorrupt on a bad row."""
        for seq, kind, body in self._db.execute("SELECT seq, kind, body FROM events ORDER BY seq"):
            try:
                if kind == BATCH_KIND:
                    yield from decode_batch(body)
                else:
                    yield decode_event(body)
            except JournalCorrupt as exc:
                raise JournalCorrupt(f"row {seq}: {exc}") from exc

    def __len__(self) -> int:
        """The number of events stored (a batch row holds several)."""
        (count,) = self._db.execute(
            "SELECT COALESCE(SUM(CASE WHEN kind = ? THEN json_array_length(body) ELSE 1 END), 0)"
            " FROM events",
            (BATCH_KIND,),
        ).fetchone()
        return int(count)

    def close(self) -> None:
        self._db.close()


def _batch_row(events: Sequence[Event]) -> tuple[str, str]:
    return BATCH_KIND, encode_batch(events)


def _create(path: Path) -> None:
    """A new, empty journal at `path`, appearing there complete or not at all."""
    building = path.with_name(f".{path.name}.{os.getpid()}.new")
    building.unlink(missing_ok=True)  # left by a crash of this pid's namesake
    db = sqlite3.connect(building, isolation_level=None)
    try:
        db.execute(f"PRAGMA page_size={_PAGE_SIZE}")  # before the first table: fixed then
        db.execute(_SCHEMA)
    finally:
        db.close()
    os.replace(building, path)


def _check_is_journal(db: sqlite3.Connection, path: Path) -> None:
    if path.stat().st_size == 0:
        raise JournalCorrupt("the file is empty (0 bytes), not a journal")
    found = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'"
    ).fetchone()
    if found is None:
        raise JournalCorrupt("it has no events table: not a journal, or its table was dropped")
