"""The one exception root of ibguard, and who is to blame for each failure.

Every part (engine, kit, rules, contracts) imports its errors from here, so a checker does not
depend on the engine it checks. `IbguardError` is never raised itself; each subclass says whose
fault the failure is:
- `UsageError`: the caller misused an API (bad argument, call out of order);
- `ConfigError`: configuration is wrong; it carries every problem found, not just the first;
- `BrokerProtocolError`: the broker (or something pretending to be it) broke the protocol;
- `InternalError`: an invariant of ibguard itself broke, i.e. our bug; please report it.
Each also subclasses the builtin it resembles, so `except ValueError` callers keep working.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BrokerProtocolError",
    "ConfigError",
    "IbguardError",
    "IndexOutOfRange",
    "InternalError",
    "UnknownKey",
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


class UnknownKey(UsageError, KeyError):
    """A lookup of a key that is not there. Also a KeyError: a Mapping's `get` and `in` rely
    on it."""


class IndexOutOfRange(UsageError, IndexError):
    """A position past either end. Also an IndexError: slicing and the old iteration
    protocol rely on it."""


class ConfigError(IbguardError, ValueError):
    """Configuration is invalid. Carries every problem found, not just the first."""

    def __init__(self, errors: Sequence[str], source: str = "") -> None:
        self.errors = tuple(errors)
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(self.errors))


class BrokerProtocolError(IbguardError, ValueError):
    """The broker side sent something the protocol does not allow, or the engine cannot hold
    (a ValueError: it is bad data, so callers that caught the old UsageError still catch it)."""


class InternalError(IbguardError, RuntimeError):
    """An invariant of ibguard itself does not hold: a bug in ibguard, not in the caller."""
