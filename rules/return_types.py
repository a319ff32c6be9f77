"""Project-wide return types: what the project's annotated functions and methods return.

`collect(source, module_name, is_package)` reads, with the stdlib `ast`, the return
annotations of a module's top-level functions and of the methods of its (nested) classes,
and names each by qualified name: `{"app.engine.core.Engine.snapshot":
"app.model.OrderState"}`. Annotation names are qualified through the module's top-level
imports and classes; Optional, Union, `X | None` and string annotations are seen through;
anything else (`list[X]`, unknown names) is left out. Properties are left out too: they are
read, not called. `ProjectIndex.return_type` answers from these tables, so an expression in
one module (`self.engine.snapshot()`) resolves through a signature written in another.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Final

from ibguard.rules import reexports

__all__ = ["collect"]

_WRAPPERS: Final = frozenset({"Optional", "Union", "Annotated", "Final", "ClassVar"})


def collect(source: str, module_name: str, is_package: bool) -> dict[str, str]:
    """Function or method qualname -> qualname of the type its annotation names."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # reported as PARSE-ERROR by the runner, not here
        return {}
    imports = reexports.collect_tree(tree, module_name, is_package)
    for statement in tree.body:  # `import a.b` binds `a`, which re-export tables leave out
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                top = alias.name.split(".", 1)[0]
                imports.setdefault(alias.asname or top, alias.name if alias.asname else top)
    classes = {s.name for s in tree.body if isinstance(s, ast.ClassDef)}
    found: dict[str, str] = {}
    for qualname, annotation in _functions(tree.body, module_name):
        type_name = _type_name(annotation, imports, classes, module_name)
        if type_name is not None:
            found[qualname] = type_name
    return found


def _functions(body: list[ast.stmt], owner: str) -> Iterator[tuple[str, ast.expr]]:
    for statement in body:
        if isinstance(statement, ast.ClassDef):
            yield from _functions(statement.body, f"{owner}.{statement.name}")
        elif (
            isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
            and statement.returns is not None
            and not any(_dotted(d).endswith("property") for d in statement.decorator_list)
        ):
            yield f"{owner}.{statement.name}", statement.returns


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def _type_name(
    node: ast.expr, imports: Mapping[str, str], classes: set[str], module_name: str
) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None
        return _type_name(parsed, imports, classes, module_name)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [node.left, node.right]
    elif isinstance(node, ast.Subscript):
        if _dotted(node.value).rsplit(".", 1)[-1] not in _WRAPPERS:
            return None
        inner = node.slice
        parts = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
    else:
        dotted = _dotted(node)
        head, _, rest = dotted.partition(".")
        if head in imports:
            base = imports[head]
        elif head in classes:
            base = f"{module_name}.{head}" if module_name else head
        else:
            return None
        return f"{base}.{rest}" if rest else base
    for part in parts:
        found = _type_name(part, imports, classes, module_name)
        if found is not None:
            return found
    return None
