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
from collections.abc import Callable, Iterator, Sequence
from typing import Final

import libcst as cst

__all__ = ["children", "descendants", "walk"]

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


_handler_names: dict[tuple[type, str], tuple[tuple[str, str], ...]] = {}


def _names_of(visitor_type: type, prefix: str) -> tuple[tuple[str, str], ...]:
    """(node type name, method name) of the visit_/leave_ methods `visitor_type` defines."""
    key = (visitor_type, prefix)
    found = _handler_names.get(key)
    if found is None:
        pairs = []
        for name in dir(visitor_type):
            if not name.startswith(prefix) or "_" in name[len(prefix) :]:
                continue
            # libcst's visitor bases define a no-op for every node type: only overrides count.
            if getattr(getattr(visitor_type, name), "__module__", "").startswith("libcst"):
                continue
            pairs.append((name[len(prefix) :], name))
        found = _handler_names[key] = tuple(pairs)
    return found


def _handlers(visitors: Sequence[object], prefix: str) -> dict[str, tuple[Handler, ...]]:
    table: dict[str, list[Handler]] = {}
    for visitor in visitors:
        for node_type, method in _names_of(type(visitor), prefix):
            table.setdefault(node_type, []).append(getattr(visitor, method))
    return {name: tuple(handlers) for name, handlers in table.items()}


# Concrete type -> is it a CSTNode (isinstance on libcst's ABC is slow; types are few).
_is_node: dict[type, bool] = {}


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
    is_node = _is_node
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
            value_type = type(value)
            if value_type is tuple or value_type is list:
                for item in value:
                    item_type = type(item)
                    known = is_node.get(item_type)
                    if known is None:
                        known = is_node[item_type] = isinstance(item, node_base)
                    if known:
                        children.append(item)
                continue
            known = is_node.get(value_type)
            if known is None:
                known = is_node[value_type] = isinstance(value, node_base)
            if known:
                children.append(value)
        children.reverse()
        stack.extend(children)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes of `node` that `walk` visits, in field order, without rebuilding it
    (libcst's `node.children` rebuilds the node to find them)."""
    found: list[cst.CSTNode] = []
    for name in _child_fields(type(node), False):
        value = getattr(node, name)
        if isinstance(value, (tuple, list)):
            found.extend(item for item in value if isinstance(item, cst.CSTNode))
        elif isinstance(value, cst.CSTNode):
            found.append(value)
    return found


def descendants(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`root` and every node under it that `walk` visits, depth first."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))
