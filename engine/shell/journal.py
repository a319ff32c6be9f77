"""The write-ahead journal: every event is stored in SQLite before the engine handles it.

The engine core is deterministic, so replaying the journal into a fresh Engine rebuilds
the book exactly (orders, fills, positions, ids) after a crash or a restart. SQLite in WAL
mode with synchronous=NORMAL: a committed event survives the process dying at any point
(an OS crash may lose the last few, which the broker reconciliation then recovers). A batch
of events (`append_all`) is one transaction: all of it is stored, or none of it.

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

from ibguard.engine.events import Event
from ibguard.engine.ports import Journal
from ibguard.engine.shell.event_codec import JournalCorrupt, decode_event, encode_event

__all__ = ["SqliteJournal"]

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
# A batch goes in as multi-row INSERTs of up to this many rows: one statement per batch
# size, each prepared once and kept (SQLite steps one statement instead of one per row).
_ROWS_PER_INSERT: Final = 100
_INSERTS: Final = {
    n: "INSERT INTO events (kind, body) VALUES " + ",".join(["(?,?)"] * n)
    for n in range(1, _ROWS_PER_INSERT + 1)
}


class SqliteJournal(Journal):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.exists():
            _create(self.path)
        self._db = sqlite3.connect(
            self.path, isolation_level=None, cached_statements=_ROWS_PER_INSERT + 32
        )
        try:
            _check_is_journal(self._db, self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # checkpoints (the only fsyncs in this mode) every ~40 MB of WAL, not ~4 MB
            self._db.execute("PRAGMA wal_autocheckpoint=10000")
        except BaseException:
            self._db.close()
            raise

    def append(self, event: Event) -> None:
        self._db.execute(_INSERT, (type(event).__name__, encode_event(event)))

    def append_all(self, events: Sequence[Event]) -> None:
        """Store `events` in order in one transaction (one commit for the whole batch)."""
        count = len(events)
        if not count:
            return
        values: list[str] = []
        for event in events:
            values += (type(event).__name__, encode_event(event))
        db = self._db
        if count <= _ROWS_PER_INSERT:  # one statement: a transaction of its own
            db.execute(_INSERTS[count], values)
            return
        db.execute("BEGIN")
        try:
            for start in range(0, count, _ROWS_PER_INSERT):
                rows = values[2 * start : 2 * (start + _ROWS_PER_INSERT)]
                db.execute(_INSERTS[len(rows) // 2], rows)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def events(self) -> Iterator[Event]:
        """Every event in the order it was written; JournalCorrupt on a bad row."""
        for seq, body in self._db.execute("SELECT seq, body FROM events ORDER BY seq"):
            try:
                yield decode_event(body)
            except JournalCorrupt as exc:
                raise JournalCorrupt(f"row {seq}: {exc}") from exc

    def __len__(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(count)

    def close(self) -> None:
        self._db.close()


def _create(path: Path) -> None:
    """A new, empty journal at `path`, appearing there complete or not at all."""
    building = path.with_name(f".{path.name}.{os.getpid()}.new")
    building.unlink(missing_ok=True)  # left by a crash of this pid's namesake
    db = sqlite3.connect(building, isolation_level=None)
    try:
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
