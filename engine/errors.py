"""The one exception root of ibguard, and who is to blame for each failure.

`IbguardError` is never raised itself. `UsageError` means the caller misused an API;
`BrokerProtocolError` means the broker (or something pretending to be it) broke the
protocol; `ConfigError` means configuration is wrong and lists every problem at once.
Each subclasses the builtin it resembles so callers can catch it either way.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BrokerProtocolError",
    "ConfigError",
    "IbguardError",
    "IllegalTransition",
    "UsageError",
]


class IbguardError(Exception):
    """Root of every ibguard error. Raise a subclass, never this."""

    def __init__(self, *args: object) -> None:
        if type(self) is IbguardError:
            raise TypeError("raise a subclass of IbguardError, not IbguardError itself")
        super().__init__(*args)


class UsageError(IbguardError, ValueError):
    """The caller used an API wrongly (bad argument, call out of order)."""


class BrokerProtocolError(IbguardError, RuntimeError):
    """The broker side sent something the protocol does not allow."""


class IllegalTransition(IbguardError, RuntimeError):
    """An order event that the lifecycle table has no move for."""

    def __init__(self, status: str, kind: str) -> None:
        super().__init__(f"no transition from {status} on {kind}")
        self.status = status
        self.kind = kind


class ConfigError(IbguardError, ValueError):
    """Configuration is invalid. Carries every problem found, not just the first."""

    def __init__(self, errors: Sequence[str], source: str = "") -> None:
        self.errors = tuple(errors)
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(self.errors))
