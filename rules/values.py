"""What an expression can refer to, as the resolver reports it: a `Value` of some `Kind`.

MODULE / SYMBOL: a module or an object, by qualified name. INSTANCE: an object of a type
(members of broker instances are broker instances too). RETURNS: a function whose result is
an INSTANCE. `ENGINE_OBJECT` is the type of what an engine port hands to its implementation.
A resolver answers `None` when it cannot tell, which rules treat differently from any Value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

__all__ = ["ENGINE_OBJECT", "Kind", "Value"]

ENGINE_OBJECT: Final = "<object from the engine port>"


class Kind(str, Enum):
    MODULE = "module"
    SYMBOL = "symbol"
    INSTANCE = "instance"
    RETURNS = "returns"


@dataclass(frozen=True, slots=True)
class Value:
    kind: Kind
    qualname: str
