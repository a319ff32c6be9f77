"""One structured record per critical decision, and operator alerts.

Every record goes to the `ibguard.engine` logger with `extra={"code": LogCode, ...ids}`;
an alert is a record at WARNING or above that also goes to the AlertSink port. Field names
must not clash with logging's own LogRecord attributes, so ids are passed as keywords and
prefixed where needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import ClassVar

from ibguard.engine.logcodes import LogCode
from ibguard.engine.ports import AlertSink

__all__ = ["DecisionLog", "DirectWriter", "record_key"]

# (logger, level, code, message, fields) -> whether it wrote the record's line itself
DirectWriter = Callable[[logging.Logger, int, LogCode, str, dict[str, object]], bool]

_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}


def record_key(field: str) -> str:
    """The name a decision's field has on its log record (and in its line): its own, or
    f_<name> where logging's LogRecord has an attribute of that name."""
    return f"f_{field}" if field in _RESERVED else field


class DecisionLog:
    __slots__ = ("_alerts", "_logger", "muted")

    # A log handler that formats records itself may take them here, before logging builds
    # a LogRecord (most of a record's cost); it says False when it is not where logging
    # would send the record, alone, and the record then goes through logging as usual.
    direct_writer: ClassVar[DirectWriter | None] = None

    def __init__(self, logger: logging.Logger, alerts: AlertSink | None) -> None:
        self._logger = logger
        self._alerts = alerts
        self.muted = False  # while replaying a journal: the decisions were logged already

    def on(self, level: int) -> bool:
        """Whether a record at `level` would go anywhere: hot paths ask before they build
        one (the logger caches the answer per level)."""
        return not self.muted and self._logger.isEnabledFor(level)

    def debug(self, code: LogCode, message: str, **fields: object) -> None:
        self._emit(logging.DEBUG, code, message, fields)

    def info(self, code: LogCode, message: str, **fields: object) -> None:
        self._emit(logging.INFO, code, message, fields)

    def warning(self, code: LogCode, message: str, **fields: object) -> None:
        self._emit(logging.WARNING, code, message, fields)

    def error(self, code: LogCode, message: str, **fields: object) -> None:
        self._emit(logging.ERROR, code, message, fields)

    def alert(self, code: LogCode, message: str, **fields: object) -> None:
        """An error record that also goes to the operator's alert sink."""
        self._emit(logging.ERROR, code, message, {**fields, "alert": True})
        if self._alerts is not None and not self.muted:
            self._alerts.alert(code, message, _frozen(fields))

    def _emit(self, level: int, code: LogCode, message: str, fields: dict[str, object]) -> None:
        if self.muted or not self._logger.isEnabledFor(level):
            return
        direct = DecisionLog.direct_writer
        if direct is not None and direct(self._logger, level, code, message, fields):
            return
        extra: dict[str, object] = {"code": code}
        for key, value in fields.items():
            extra[record_key(key)] = value
        self._logger.log(level, message, extra=extra)


def _frozen(fields: dict[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(fields))
