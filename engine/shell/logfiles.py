"""The service's log files: one JSON object per line, rotated by size and daily.

Owns: `JsonLineFormatter` (record -> one JSON line), `RotatingJsonFileHandler` (writes the
lines to files, rotates, prunes, falls back to stderr) and `configure_logging` (installs
it on the `ibguard` logger and returns what it installed, so it can be removed).

Files live in one directory, named `<stem>.<YYYY-MM-DD>.<NNNN>.jsonl`: the day (in the
configured time zone) the records belong to, then a sequence number within that day. A
name is never reused and files are never renamed, so a restart appends to today's newest
file and the name order is the record order.

Invariants:
- a new file starts when the day changes or when the next line would push the current
  file past `max_bytes` (a single line bigger than the cap still gets a file of its own);
- at most `backups + 1` files are kept: the current one and the newest `backups` before
  it; older ones are deleted;
- time for rotation comes from the injected clock, never from the record;
- buffered (`buffered=True`, as the service runs it) lines reach the file on `flush()`,
  which the service calls after each batch of events, on close, or when the buffer fills;
  otherwise every line is flushed as it is written;
- the handler never raises: when the directory cannot be written it writes one record
  with code LOG_FILE_UNWRITABLE to stderr, then sends every record to stderr (none is
  lost) and tries the directory again after `retry_after`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import Enum
from pathlib import Path
from time import time_ns
from typing import IO, Any, Final, final
from zoneinfo import ZoneInfo

from ibguard.engine.decision_log import DecisionLog, record_key
from ibguard.engine.errors import UsageError
from ibguard.engine.logcodes import LogCode
from ibguard.engine.ports import Clock
from ibguard.engine.shell.record_time import RecordTime

__all__ = [
    "InstalledLogging",
    "JsonLineFormatter",
    "RotatingJsonFileHandler",
    "configure_logging",
    "lean_log_records",
]

NowSource = Clock | Callable[[], datetime]

# Attributes every LogRecord has; anything else on a record came in through `extra`.
_STANDARD_ATTRS: Final = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_FIXED_KEYS: Final = ("time", "level", "logger", "code", "message")
_SKIPPED: Final = _STANDARD_ATTRS | frozenset(_FIXED_KEYS)


def _jsonable(value: object) -> object:
    """`json.dumps` fallback: the types engine records carry, as text a reader can parse."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return str(value)  # Decimal, Path, and anything else: its text form


_AS_TEXT: Final[dict[type, Callable[[Any], object]]] = {
    Decimal: str,
    datetime: datetime.isoformat,
    date: date.isoformat,
    time: time.isoformat,
    timedelta: timedelta.total_seconds,
}
# one encoder for every line (json.dumps with options builds a new one per call)
_JSON: Final = json.JSONEncoder(default=_jsonable, ensure_ascii=False)
_RECORD_TIME: Final = RecordTime()  # the "time" of every line
_record_time: Final = _RECORD_TIME.text
_record_time_ns: Final = _RECORD_TIME.text_ns


class JsonLineFormatter(logging.Formatter):
    """One record -> one line of JSON: time, level, logger, code, message, then extras.

    `time` is the record's creation time in UTC, ISO-8601; `code` is the record's LogCode
    value (null when it has none). Decimals become strings so no digit is lost.
    """

    def format(self, record: logging.LogRecord) -> str:
        line = _simple_line(record)
        return line if line is not None else self._general_line(record)

    def _general_line(self, record: logging.LogRecord) -> str:
        code = getattr(record, "code", None)
        payload: dict[str, object] = {
            "time": _record_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "code": code.value if isinstance(code, Enum) else code,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _SKIPPED:
                # the common value types converted here: cheaper than json's `default` hook
                convert = _AS_TEXT.get(type(value))
                payload[key] = value if convert is None else convert(value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        try:
            return _JSON.encode(payload)
        except (TypeError, ValueError):  # e.g. a dict with tuple keys, or a cycle
            return json.dumps({key: str(value) for key, value in payload.items()})


_QUOTE: Final = json.encoder.encode_basestring  # json's own string quoting (non-ASCII kept)


def _simple_line(record: logging.LogRecord) -> str | None:
    """The same line as the general path would write, built directly when every value is
    a str, int, bool, None or Decimal (most decision records); None otherwise."""
    if record.exc_info or record.stack_info:
        return None
    values = _values_text(record.__dict__)
    if values is None:
        return None
    head = _head(record.levelname, record.name, getattr(record, "code", None), record.getMessage())
    if head is None:
        return None
    return '{"time": "' + _record_time(record.created) + head + values + "}"


def _head(levelname: object, name: object, code: object, message: str) -> str | None:
    """The text between a line's time and its values; None if one is not text."""
    if isinstance(code, Enum):
        code = code.value
    if (code is not None and type(code) is not str) or not (
        type(name) is str and type(levelname) is str
    ):
        return None
    quote = _QUOTE
    return (
        f'", "level": {quote(levelname)}, "logger": {quote(name)}, '
        f'"code": {"null" if code is None else quote(code)}, "message": {quote(message)}'
    )


_KEY_TEXTS: Final[dict[str, str]] = {}  # ', "name": ' per value name (they repeat)
_TEXTS_KEPT: Final = 4096  # bound on the texts above and below (names are code, not data)


def _value_text(value: Any) -> str | None:
    """The JSON text of a str, Decimal (as its string), int, bool or None: the values a
    line is made of directly; None for any other (the general path writes those)."""
    kind = type(value)
    if kind is str:
        return _QUOTE(value)
    if kind is Decimal:
        return _QUOTE(str(value))
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    return None


def _values_text(values: dict[str, Any]) -> str | None:
    """', "name": value' for each value whose name is not in _SKIPPED; None unless every
    one is a str, int, bool, None or Decimal (the general path writes the others)."""
    quote = _QUOTE
    parts: list[str] = []
    for key, value in values.items():
        if key in _SKIPPED:
            continue
        text = _value_text(value)
        if text is None:
            return None  # enums, floats, dates, containers: the general path
        key_text = _KEY_TEXTS.get(key)
        if key_text is None:
            key_text = f", {quote(key)}: "
            if len(_KEY_TEXTS) < _TEXTS_KEPT:
                _KEY_TEXTS[key] = key_text
        parts += (key_text, text)
    return "".join(parts)


_HEADS: Final[dict[tuple[int, str, str, object], str]] = {}  # of decision records
# ', "name": ' per decision field name, as `_values_text` writes the record's key (see
# record_key); "" for a field the line leaves out (a name of its fixed keys)
_FIELD_TEXTS: Final[dict[str, str]] = {}


def _decision_line(
    level: int, name: str, code: LogCode, message: str, fields: dict[str, Any], *, ns: int
) -> str | None:
    """The line (with its newline) of a DecisionLog record that was never made: the same
    line `_simple_line` writes for it, at `ns` (time_ns); the head of each (level, logger,
    message, code) and the key text of each field name made once (decisions repeat
    them); None when only the general path can write it."""
    quote = _QUOTE
    parts: list[str] = []
    for field, value in fields.items():
        key_text = _FIELD_TEXTS.get(field)
        if key_text is None:
            named = record_key(field)
            if named == "code":  # it would replace the record's code: the general path
                return None
            key_text = "" if named in _SKIPPED else f", {quote(named)}: "
            if len(_FIELD_TEXTS) < _TEXTS_KEPT:
                _FIELD_TEXTS[field] = key_text
        if not key_text:
            continue
        text = _value_text(value)
        if text is None:
            return None  # the general path
        parts += (key_text, text)
    # a LogCode's hash is a Python call; its text hashes in C (and writes the same head)
    key = (level, name, message, code._value_ if type(code) is LogCode else code)
    head = _HEADS.get(key)
    if head is None:
        head = _head(logging.getLevelName(level), name, code, message)
        if head is None:
            return None
        if len(_HEADS) < _TEXTS_KEPT:
            _HEADS[key] = head
    return f'{{"time": "{_record_time_ns(ns)}{head}{"".join(parts)}}}\n'


_NO_DAY: Final = (0, 0)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _ns_since_epoch(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(microseconds=1) * 1000


class RotatingJsonFileHandler(logging.Handler):
    """Writes JSON lines to `directory`, rotating by size and by day in `tz`."""

    def __init__(
        self,
        directory: Path | str,
        *,
        max_bytes: int,
        backups: int,
        tz: tzinfo | str = "UTC",
        clock: NowSource | None = None,
        stem: str = "ibguard",
        fallback: IO[str] | None = None,
        retry_after: timedelta = timedelta(minutes=1),
        buffered: bool = False,
    ) -> None:
        super().__init__()
        if max_bytes < 1 or backups < 0:
            raise UsageError("max_bytes must be >= 1 and backups >= 0")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.backups = backups
        self.zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.stem = stem
        self._clock = clock
        self._fallback = fallback
        self._retry_after = retry_after
        self.buffered = buffered
        self._name = re.compile(re.escape(stem) + r"\.(\d{4}-\d{2}-\d{2})\.(\d+)\.jsonl\Z")
        self._stream: IO[bytes] | None = None
        self._path: Path | None = None
        self._day: date | None = None
        # the current day as instants (astimezone per line would cost more than the line)
        self._day_starts = self._day_ends = datetime.min.replace(tzinfo=timezone.utc)
        # the same range in time_ns while the host clock rules and a file is open, else empty
        self._day_ns = _NO_DAY
        self._size = 0
        self._failed_at: datetime | None = None  # set while writing to stderr instead
        assert self.lock is not None  # made by Handler.__init__ (and re-made in place on fork)
        self._lock = self.lock
        self.setFormatter(JsonLineFormatter())

    @property
    def current_path(self) -> Path | None:
        """The file being written, or None before the first record and while failed."""
        return self._path

    def files(self) -> list[Path]:
        """This handler's files in the directory, oldest first."""
        return [path for _day, _seq, path in self._indexed_files()]

    def emit(self, record: logging.LogRecord) -> None:
        # Like the stdlib handlers: a bug here (a caller's bad format args, a broken clock)
        # goes to logging's own error report; a log call must never raise.
        try:
            self._write_line(self.format(record) + "\n")
        except Exception:
            self.handleError(record)

    def write_decision(
        self,
        logger: logging.Logger,
        level: int,
        code: LogCode,
        message: str,
        fields: dict[str, object],
    ) -> bool:
        """A DecisionLog record's line, written without a LogRecord (a `DirectWriter`):
        the same line `emit` writes, when logging would send the record here and nowhere
        else. False, having written nothing, otherwise (logging then takes the record)."""
        if not self._sole_destination(logger, level):
            return False
        ns = time_ns()  # one reading: the line's time, and its day when the host clock rules
        line = _decision_line(level, logger.name, code, message, fields, ns=ns)
        if line is None:
            return False
        with self._lock:  # Handler.acquire's lock, without its Python-level call
            try:
                self._write_line(line, ns)
            except Exception:  # a bug (a broken clock): logging's path reports it
                return False
        return True

    def _sole_destination(self, logger: logging.Logger, level: int) -> bool:
        """Whether logging would hand a record of `logger` at `level` to this handler alone,
        unfiltered, formatted by our formatter, as a plain LogRecord."""
        if (
            logger.disabled
            or logger.filters
            or self.filters
            or level < self.level
            or type(self.formatter) is not JsonLineFormatter
            or logging.getLogRecordFactory() is not logging.LogRecord
        ):
            return False
        found = False
        node: logging.Logger | None = logger
        while node is not None:
            for handler in node.handlers:
                if handler is not self or found:
                    return False
                found = True
            node = node.parent if node.propagate else None
        return found

    def _write_line(self, line: str, ns: int | None = None) -> None:
        """Write `line` (`ns`: time_ns read for it, if it was)."""
        start, end = self._day_ns
        if start <= (time_ns() if ns is None else ns) < end:
            # the host clock, within the open file's day: no datetime per line
            now: datetime | None = None
        else:
            now = self._now()
            if self._failed_at is not None and now - self._failed_at < self._retry_after:
                self._write_fallback(line)
                return
        try:
            self._write_file(line.encode("utf-8"), now)
            self._failed_at = None
        except OSError as exc:
            self._fail(exc, self._now() if now is None else now)
            self._write_fallback(line)

    def flush(self) -> None:
        """Write out buffered lines (a no-op when nothing is buffered)."""
        self.acquire()
        try:
            if self._stream is not None:
                try:
                    self._stream.flush()
                except OSError as exc:  # the lines in the buffer are lost with the disk
                    self._fail(exc, self._now())
        finally:
            self.release()

    def close(self) -> None:
        self.acquire()
        try:
            self._close_stream()
        finally:
            self.release()
        super().close()

    def _now(self) -> datetime:
        if self._clock is None:
            return datetime.now(timezone.utc)
        now = self._clock.now() if isinstance(self._clock, Clock) else self._clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)

    def _indexed_files(self) -> list[tuple[date, int, Path]]:
        try:
            names = list(self.directory.iterdir())
        except FileNotFoundError:
            return []
        found = [
            (date.fromisoformat(match.group(1)), int(match.group(2)), path)
            for path in names
            if (match := self._name.match(path.name))
        ]
        return sorted(found)

    def _write_file(self, data: bytes, now: datetime | None) -> None:
        """Append `data` to the file of `now`'s day (None: the open file's day)."""
        if now is not None:
            self._open_day_of(now)
        if self._size > 0 and self._size + len(data) > self.max_bytes:
            assert self._day is not None  # a file is open: see _write_line
            self._open_next(self._day)  # (its day's range in time_ns is set by the next line)
        assert self._stream is not None  # the opens above leave a file open or raise
        self._stream.write(data)
        if not self.buffered:
            self._stream.flush()
        self._size += len(data)

    def _open_day_of(self, now: datetime) -> None:
        """The file of `now`'s day open, and that day's range known."""
        day = self._day
        # the same day as the last line: no time zone arithmetic per line
        if day is None or self._stream is None or not self._day_starts <= now < self._day_ends:
            day = now.astimezone(self.zone).date()
            start = datetime.combine(day, time(), self.zone)
            # kept in UTC: comparing to the clock's UTC now is then a plain field compare
            end = start + timedelta(days=1)  # wall-clock midnight, across a DST change too
            self._day_starts = start.astimezone(timezone.utc)
            self._day_ends = end.astimezone(timezone.utc)
        if self._stream is None or day != self._day:
            self._open_newest(day)
        if self._clock is None:  # the host clock: later lines of the day compare time_ns
            self._day_ns = (_ns_since_epoch(self._day_starts), _ns_since_epoch(self._day_ends))

    def _open_newest(self, day: date) -> None:
        """Open the newest file of `day` (it may exist from before a restart), or a new one."""
        self.directory.mkdir(parents=True, exist_ok=True)
        todays = [path for file_day, _seq, path in self._indexed_files() if file_day == day]
        if todays:
            self._open(todays[-1], day)
        else:
            self._open_next(day)

    def _open_next(self, day: date) -> None:
        seqs = [seq for file_day, seq, _path in self._indexed_files() if file_day == day]
        name = f"{self.stem}.{day.isoformat()}.{max(seqs, default=-1) + 1:04d}.jsonl"
        self._open(self.directory / name, day)

    def _open(self, path: Path, day: date) -> None:
        self._close_stream()
        self._stream = path.open("ab")
        self._path = path
        self._day = day
        self._size = path.stat().st_size
        self._prune()

    def _prune(self) -> None:
        """Keep the current file and the newest `backups` others (by name, not by mtime)."""
        others = [path for path in self.files() if path != self._path]
        for old in others[: max(0, len(others) - self.backups)]:
            old.unlink()

    def _close_stream(self) -> None:
        self._day_ns = _NO_DAY  # the next line finds its file the long way
        stream, self._stream, self._path = self._stream, None, None
        if stream is not None:
            # closing flushes; if that fails the records already went to stderr
            with contextlib.suppress(OSError):
                stream.close()

    def _fail(self, exc: OSError, now: datetime) -> None:
        """Give up on the directory for a while; say so once per failure."""
        first = self._failed_at is None
        self._failed_at = now
        self._close_stream()
        if first:
            notice = logging.makeLogRecord(
                {
                    "name": __name__,
                    "levelno": logging.ERROR,
                    "levelname": logging.getLevelName(logging.ERROR),
                    "msg": "log directory %s unwritable (%s); logging to stderr",
                    "args": (self.directory, exc),
                    "code": LogCode.LOG_FILE_UNWRITABLE,
                    "directory": str(self.directory),
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )
            self._write_fallback(self.format(notice) + "\n")

    def _write_fallback(self, line: str) -> None:
        stream = self._fallback if self._fallback is not None else sys.stderr
        # stderr gone too (closed, broken pipe): there is nowhere left to write
        with contextlib.suppress(OSError, ValueError):
            stream.write(line)
            stream.flush()


@final
@dataclass(frozen=True, slots=True)
class InstalledLogging:
    """What `configure_logging` changed, so a service (or a test) can undo it."""

    logger: logging.Logger
    handler: RotatingJsonFileHandler
    previous_level: int

    def remove(self) -> None:
        if DecisionLog.direct_writer == self.handler.write_decision:
            DecisionLog.direct_writer = None
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.previous_level)
        self.handler.close()


def configure_logging(
    directory: Path | str,
    *,
    max_bytes: int,
    backups: int,
    tz: tzinfo | str,
    level: int | str = logging.INFO,
    clock: NowSource | None = None,
    logger_name: str = "ibguard",
    buffered: bool = False,
) -> InstalledLogging:
    """Send the `ibguard` loggers' records at `level` and above to rotating JSON files
    (buffered: written out on `handler.flush()`; see RotatingJsonFileHandler)."""
    handler = RotatingJsonFileHandler(
        directory, max_bytes=max_bytes, backups=backups, tz=tz, clock=clock, buffered=buffered
    )
    logger = logging.getLogger(logger_name)
    installed = InstalledLogging(logger=logger, handler=handler, previous_level=logger.level)
    logger.setLevel(level)
    logger.addHandler(handler)
    DecisionLog.direct_writer = handler.write_decision  # decision records skip LogRecords
    return installed


@contextlib.contextmanager
def lean_log_records() -> Iterator[None]:
    """While inside: log records skip what the JSON lines never show (the caller's frame,
    thread, process and task names), as the logging HOWTO's "Optimization" section advises.
    Process-wide, so only for a process that owns its logging (`ibguard engine run`);
    restored on the way out."""
    switches = ("logThreads", "logProcesses", "logMultiprocessing", "logAsyncioTasks")
    saved = {name: getattr(logging, name) for name in switches if hasattr(logging, name)}
    source = logging._srcfile  # the documented switch (a private name)
    logging._srcfile = None
    for name in saved:
        setattr(logging, name, False)
    try:
        yield
    finally:
        logging._srcfile = source
        for name, value in saved.items():
            setattr(logging, name, value)
