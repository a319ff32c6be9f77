"""The write-ahead journal: every event is stored in SQLite before the engine handles it.

The engine core is deterministic, so replaying the journal into a fresh Engine rebuilds
the book exactly (orders, fills, positions, ids) after a crash or a restart. SQLite in WAL
mode with synchronous=NORMAL: a committed event survives the process dying at any point
(an OS crash may lose the last few, which the broker reconciliation then recovers).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from ibguard.engine.events import Event
from ibguard.engine.ports import Journal
from ibguard.engine.shell.event_codec import decode_event, encode_event

__all__ = ["SqliteJournal"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
)
"""


class SqliteJournal(Journal):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def append(self, event: Event) -> None:
        self._db.execute(
            "INSERT INTO events (kind, body) VALUES (?, ?)",
            (type(event).__name__, encode_event(event)),
        )

    def events(self) -> Iterator[Event]:
        """Every event in the order it was written; JournalCorrupt on a bad row."""
        for (body,) in self._db.execute("SELECT body FROM events ORDER BY seq"):
            yield decode_event(body)

    def __len__(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(count)

    def close(self) -> None:
        self._db.close()
