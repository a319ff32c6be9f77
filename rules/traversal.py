"""Walking a libcst tree fast: visit and leave methods by node type, without libcst's traversal.

libcst's own `visit` rebuilds every node it passes (`_visit_and_replace_children`), even for
read-only visitors, which made a traversal cost twice the parse. `walk` reads children straight
from each node's dataclass fields, skips the fields that only hold whitespace and punctuation,
dispatches through a per-type table built once per walk, and keeps its own stack, so depth costs
no recursion. Visitors are plain objects with `visit_<Type>(node)` / `leave_<Type>(node)`
methods, as for libcst (`CSTVisitor` and `BatchableCSTVisitor` both fit); return values are
ignored: every child is visited. Children are visited in field order, which can differ from
source order between siblings (a function's decorators come after its body); enter and leave
still nest exactly as in the tree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Final

import libcst as cst

__all__ = ["walk"]

Handler = Callable[[cst.CSTNode], object]

# Fields that hold only whitespace, comments and punctuation: nothing a rule looks at.
_LAYOUT_FIELDS: Final = frozenset(
    {
        "lpar",
        "rpar",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "comma",
        "semicolon",
        "dot",
        "colon",
        "equal",
        "asynchronous",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "first_line",
        "empty_lines",
        "newline",
        "trailing_whitespace",
        "default_newline",
        "default_indent",
        "encoding",
        "indent",
        "star",
    }
)
# Node types that sit only in layout fields: a visitor asking for one gets a full walk.
_LAYOUT_TYPES: Final = frozenset(
    {
        "SimpleWhitespace",
        "ParenthesizedWhitespace",
        "Newline",
        "EmptyLine",
        "TrailingWhitespace",
        "Comment",
        "LeftParen",
        "RightParen",
        "LeftSquareBracket",
        "RightSquareBracket",
        "LeftCurlyBrace",
        "RightCurlyBrace",
        "Comma",
        "Semicolon",
        "Colon",
        "Dot",
        "AssignEqual",
        "Asynchronous",
        "ParamStar",
    }
)

_fields_cache: dict[tuple[type, bool], tuple[str, ...]] = {}


def _child_fields(node_type: type, full: bool) -> tuple[str, ...]:
    key = (node_type, full)
    found = _fields_cache.get(key)
    if found is None:
        found = tuple(
            field.name
            for field in dataclasses.fields(node_type)
            if full or not (field.name in _LAYOUT_FIELDS or field.name.startswith("whitespace"))
        )
        _fields_cache[key] = found
    return found


def _handlers(visitors: Sequence[object], prefix: str) -> dict[str, tuple[Handler, ...]]:
    table: dict[str, list[Handler]] = {}
    for visitor in visitors:
        for name in dir(type(visitor)):
            if not name.startswith(prefix) or "_" in name[len(prefix) :]:
                continue
            method = getattr(type(visitor), name)
            # libcst's visitor bases define a no-op for every node type: only overrides count.
            if getattr(method, "__module__", "").startswith("libcst"):
                continue
            table.setdefault(name[len(prefix) :], []).append(getattr(visitor, name))
    return {name: tuple(handlers) for name, handlers in table.items()}


def walk(root: cst.CSTNode, visitors: Sequence[object]) -> None:
    """Call every visitor's visit_/leave_ methods on every node under `root`, depth first."""
    enter = _handlers(visitors, "visit_")
    leave = _handlers(visitors, "leave_")
    full = any(name in _LAYOUT_TYPES for name in (*enter, *leave))
    no_handlers: tuple[Handler, ...] = ()
    fields_of: dict[type, tuple[str, ...]] = {}
    enter_of: dict[type, tuple[Handler, ...]] = {}
    leave_of: dict[type, tuple[Handler, ...]] = {}
    node_base = cst.CSTNode
    # Entries: a node to enter, or (node,) for a node to leave.
    stack: list[cst.CSTNode | tuple[cst.CSTNode]] = [root]
    pop = stack.pop
    push = stack.append
    while stack:
        entry = pop()
        if type(entry) is tuple:
            node = entry[0]
            for handler in leave_of[type(node)]:
                handler(node)
            continue
        node = entry  # type: ignore[assignment]  # not a (node,) to leave: a node
        node_type = type(node)
        names = fields_of.get(node_type)
        if names is None:
            names = fields_of[node_type] = _child_fields(node_type, full)
            enter_of[node_type] = enter.get(node_type.__name__, no_handlers)
            leave_of[node_type] = leave.get(node_type.__name__, no_handlers)
        for handler in enter_of[node_type]:
            handler(node)
        if leave_of[node_type]:
            push((node,))
        children: list[cst.CSTNode] = []
        for name in names:
            value = getattr(node, name)
            if isinstance(value, node_base):
                children.append(value)
            elif type(value) is tuple or type(value) is list:
                children.extend(item for item in value if isinstance(item, node_base))
        children.reverse()
        stack.extend(children)
