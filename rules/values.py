"""What an expression can refer to, as the resolver reports it: a `Value` of some `Kind`.

MODULE / SYMBOL: a module or an object, by qualified name. INSTANCE: an object of a type
(members of broker instances are broker instances too). RETURNS: a function whose result is
an INSTANCE. `ENGINE_OBJECT` is the type of what an engine port hands to its implementation;
`PLAIN_DATA` the type of a value the broker library types as plain data (str, float, Decimal,
datetime, DataFrame), `list:<type>` a sequence of a type. A resolver answers `None` when it
cannot tell, which rules treat differently from any Value. `Role` is what a broker value is,
as the broker library's own model says (`ModuleResolver.role`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

__all__ = ["ENGINE_OBJECT", "PLAIN_DATA", "Kind", "Role", "Value"]

ENGINE_OBJECT: Final = "<object from the engine port>"
PLAIN_DATA: Final = "<plain data>"


class Kind(str, Enum):
    MODULE = "module"
    SYMBOL = "symbol"
    INSTANCE = "instance"
    RETURNS = "returns"


@dataclass(frozen=True, slots=True)
class Value:
    kind: Kind
    qualname: str


class Role(str, Enum):
    """What a value is to the broker library."""

    NONE = "not the broker's"
    MODULE = "a broker module"
    FUNCTION = "a broker library function"
    CLASS = "a broker class"
    CLIENT = "a broker client"
    CLIENT_METHOD = "a method of a broker client"
    DATA = "broker data"
    DATA_METHOD = "a method of broker data"
    EVENT = "a broker event"
    EVENT_METHOD = "a method of a broker event"
    DERIVED = "a value the library returns without saying its type"
    UNTYPED = "a broker name the library's model does not describe"
