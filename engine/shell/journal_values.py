"""What a journal row may hold, shared by both row formats: the engine's own types, numbers
within bounds, and the one error for anything else.

Closed: only the dataclasses and enums that `events`, `model` and `commands` export can
come out of a row. Bounded: a number is finite and within 10^±40 (no price or quantity is
larger or finer), and its text short, so a crafted row cannot make the replay overflow.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Final

from ibguard.engine import commands, events, model
from ibguard.engine.errors import IbguardError

__all__ = ["ENGINE_TYPES", "EVENT_TYPES", "MAX_EXPONENT", "JournalCorrupt", "journal_number"]

MAX_EXPONENT: Final = 40  # |adjusted exponent| of any number a journal row may hold


class JournalCorrupt(IbguardError, ValueError):
    """A journal row that is not an event this engine wrote."""


def _registry(*modules: Any) -> dict[str, type[Any]]:
    found: dict[str, type[Any]] = {}
    for module in modules:
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and (
                dataclasses.is_dataclass(value) or issubclass(value, Enum)
            ):
                found[name] = value
    return found


ENGINE_TYPES: Final = _registry(events, model, commands)
EVENT_TYPES: Final = frozenset(
    cls for cls in ENGINE_TYPES.values() if cls.__module__ == events.__name__
)


def journal_number(text: object) -> Decimal:
    """The Decimal a row spells, or JournalCorrupt when it is no number an order holds."""
    if not isinstance(text, str) or len(text) > 2 * MAX_EXPONENT + 20:
        raise JournalCorrupt(f"not a number in journal: {str(text)[:40]!r}")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise JournalCorrupt(f"not a number in journal: {text[:40]!r}") from None
    if not number.is_finite() or (
        number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT
    ):
        raise JournalCorrupt(f"number out of range in journal: {text[:40]!r}")
    return number
