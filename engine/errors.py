"""The engine's own error, `IllegalTransition`, plus the project's error root re-exported.

The root and its whose-fault subclasses live in `ibguard.errors` (neutral, so the rules and
contracts need not import the engine); they are re-exported here so existing imports keep
working. `IllegalTransition` is an engine concept: the order lifecycle table has no move.
"""

from __future__ import annotations

from ibguard.errors import (
    BrokerProtocolError,
    ConfigError,
    IbguardError,
    InternalError,
    UsageError,
)

__all__ = [
    "BrokerProtocolError",
    "ConfigError",
    "IbguardError",
    "IllegalTransition",
    "InternalError",
    "UsageError",
]


class IllegalTransition(IbguardError, RuntimeError):
    """An order event that the lifecycle table has no move for."""

    def __init__(self, status: str, kind: str) -> None:
        super().__init__(f"no transition from {status} on {kind}")
        self.status = status
        self.kind = kind
