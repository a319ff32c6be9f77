"""Project-wide re-exports: which module-level names of a project module are imports.

`collect(source, module_name, is_package)` reads one module's top-level imports (also inside
top-level `try:`/`if` blocks) with the stdlib `ast`, which is much faster than libcst and
needs no metadata. `ProjectIndex.canonical` then follows the chains: an engine's
`from app.connector import IB` resolves to `ib_async.IB` if `app.connector` re-exports it.
A star import is recorded under the key "*".
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

__all__ = ["collect", "collect_tree"]


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for statement in body:
        yield statement
        if isinstance(statement, ast.Try):
            yield from _top_level(statement.body)
            for handler in statement.handlers:
                yield from _top_level(handler.body)
        elif isinstance(statement, ast.If):
            yield from _top_level(statement.body)
            yield from _top_level(statement.orelse)


def _base(node: ast.ImportFrom, module_name: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module_name.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def collect(source: str, module_name: str, is_package: bool) -> dict[str, str]:
    """Local name -> qualified name, for every top-level import of the module."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # reported as PARSE-ERROR by the runner, not here
        return {}
    return collect_tree(tree, module_name, is_package)


def collect_tree(tree: ast.Module, module_name: str, is_package: bool) -> dict[str, str]:
    """`collect` on a module already parsed with `ast`."""
    names: dict[str, str] = {}
    for statement in _top_level(tree.body):
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    names[alias.asname] = alias.name
        elif isinstance(statement, ast.ImportFrom):
            base = _base(statement, module_name, is_package)
            for alias in statement.names:
                if alias.name == "*":
                    names["*"] = base
                else:
                    names[alias.asname or alias.name] = f"{base}.{alias.name}"
    return names
