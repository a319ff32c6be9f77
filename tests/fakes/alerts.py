"""A fake AlertSink that keeps every alert it receives."""

from __future__ import annotations

from collections.abc import Mapping

from ibguard.engine import AlertSink, LogCode


class RecordingAlerts(AlertSink):
    def __init__(self) -> None:
        self.alerts: list[tuple[LogCode, str, Mapping[str, object]]] = []

    def alert(self, code: LogCode, message: str, fields: Mapping[str, object]) -> None:
        self.alerts.append((code, message, fields))

    @property
    def codes(self) -> list[LogCode]:
        return [code for code, _, _ in self.alerts]
