"""Typed reads of a contract's parsed options.

import-linter declares options as class-level `fields.*` descriptors and, when it builds a
contract, sets the parsed value on the instance under the same name. To a type checker the
attribute is still the field object, so the contract types read their options through these
functions instead of silencing the checker at every use.
"""

from __future__ import annotations

from ibguard.errors import InternalError
from importlinter import Contract

__all__ = ["string_list", "string_option"]


def _parsed(contract: Contract, name: str) -> object:
    try:
        return vars(contract)[name]
    except KeyError:
        raise InternalError(f"{type(contract).__name__} has no parsed option {name!r}") from None


def string_list(contract: Contract, name: str) -> list[str]:
    """A list option (a `ListField` or `SetField` of strings); a lone string is a list of one."""
    value = _parsed(contract, name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | set | tuple | frozenset):
        return [str(item) for item in value]
    raise InternalError(f"option {name!r} of {type(contract).__name__} is not a list: {value!r}")


def string_option(contract: Contract, name: str) -> str:
    """A string option (a `StringField`)."""
    return str(_parsed(contract, name))
