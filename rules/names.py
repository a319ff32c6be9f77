"""Words inside identifiers: `self._ibClient` -> ("ib", "client"), `avg_fill_price` ->
("avg", "fill", "price"). Rules that judge a name by what it says use this one splitter."""

from __future__ import annotations

import re
from typing import Final

import libcst as cst

__all__ = ["terminal_name", "words"]

_WORD: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def words(identifier: str) -> tuple[str, ...]:
    """Lower-case words of a snake_case or camelCase identifier."""
    return tuple(w.lower() for w in _WORD.findall(identifier))


def terminal_name(expr: cst.BaseExpression) -> str:
    """The last name of `a.b.c` (`c`), of `x[i]` (`x`), of `f()` (`f`); '' otherwise."""
    while True:
        if isinstance(expr, cst.Name):
            return expr.value
        if isinstance(expr, cst.Attribute):
            return expr.attr.value
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        elif isinstance(expr, cst.Call):
            expr = expr.func
        elif isinstance(expr, cst.Await):
            expr = expr.expression
        else:
            return ""
