"""Project-wide types: what the project's functions return, what its classes hold and extend.

`collect(source, module_name, is_package)` reads one module with the stdlib `ast` and names
each fact by qualified name, in one flat table of strings:
- `"app.engine.core.Engine.snapshot": "app.model.OrderState"`: the return annotation of a
  function or method; without one, what its `return` statements build (`return IB()`, or a
  name or `self.x` assigned from a call) as `"call:ib_async.IB"`: "what calling this gives".
- `"attr:app.engine.Strategy.ib": "ib_async.IB"`: a class attribute, from a class-level
  annotation (`ib: ClassVar[IB]`), `self.ib: IB`, `self.ib = IB()` (`call:`), or
  `self.ib = ib` where the parameter `ib` is annotated.
- `"bases:app.engine.Strategy": "app.base.Base,ibapi.client.EClient"`: the base classes;
  `"class:app.engine.Strategy": "Strategy"` for every class.
- `"defines:placeOrder": "app.orders.Book.placeOrder"`: the project defines a function or
  method with a distinctive IB client name (so `x.placeOrder()` may be the team's own).
- `"arg:app.engine.Strategy#1": "call:ib_async.IB"`: a call in this module passes, at that
  position (or keyword), what calling `ib_async.IB` gives (`Strategy(account, ib)` after
  `ib = IB()`); for a class, the position counts the arguments of `__init__` after `self`.
Names are qualified through the module's top-level imports, classes and functions; Optional,
Union, `X | None`, ClassVar and string annotations are seen through; anything else (`list[X]`,
unknown names) is left out. Properties count as attributes: they are read, not called.
`ProjectIndex` answers from these tables, so `self.engine.snapshot()` or `self.ib.placeOrder()`
resolves through a signature or an attribute written in another module, also on a base class.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Final

from ibguard.rules import reexports
from ibguard.rules.broker_api import (
    DEFAULT_BROKER_LIBRARIES,
    is_distinctive_client_method,
    public_names,
)

__all__ = ["collect", "collect_tree"]

_WRAPPERS: Final = frozenset({"Optional", "Union", "Annotated", "Final", "ClassVar"})


def collect(source: str, module_name: str, is_package: bool) -> dict[str, str]:
    """Function or method qualname -> qualname of the type its annotation names."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # reported as PARSE-ERROR by the runner, not here
        return {}
    return collect_tree(tree, module_name, is_package)


def collect_tree(tree: ast.Module, module_name: str, is_package: bool) -> dict[str, str]:
    """`collect` on a module already parsed with `ast`."""
    imports = reexports.collect_tree(tree, module_name, is_package)
    for statement in tree.body:  # `import a.b` binds `a`, which re-export tables leave out
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                top = alias.name.split(".", 1)[0]
                imports.setdefault(alias.asname or top, alias.name if alias.asname else top)
    classes = {
        s.name
        for s in tree.body
        if isinstance(s, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    }
    reader = _Reader(imports, classes, module_name, _module_calls(tree.body))
    reader.read(tree.body, module_name, in_class=False)
    reader.arguments(tree)
    return reader.found


_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _is_property(function: _Function) -> bool:
    return any(_dotted(d).endswith("property") for d in function.decorator_list)


def _module_calls(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """Module-level `name = f(...)`: what a function's `global name; return name` gives."""
    return {
        target.id: statement.value
        for statement in body
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call)
        for target in statement.targets
        if isinstance(target, ast.Name)
    }


class _Reader:
    def __init__(
        self,
        imports: Mapping[str, str],
        classes: set[str],
        module_name: str,
        module_calls: Mapping[str, ast.expr],
    ) -> None:
        self.imports = imports
        self.classes = classes
        self.module_name = module_name
        self.module_calls = module_calls
        self.found: dict[str, str] = {}

    def type_of(self, annotation: ast.expr) -> str | None:
        return _type_name(annotation, self.imports, self.classes, self.module_name)

    def built(self, value: ast.expr | None) -> str | None:
        """`call:Q` for `Q(...)` (also awaited), when Q can be named."""
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return None
        named = self.type_of(value.func)
        return f"call:{named}" if named is not None else None

    def read(self, body: list[ast.stmt], owner: str, *, in_class: bool) -> None:
        for statement in body:
            if isinstance(statement, ast.ClassDef):
                self._class(statement, f"{owner}.{statement.name}")
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = f"{owner}.{statement.name}"
                if is_distinctive_client_method(statement.name):
                    self.found.setdefault(f"defines:{statement.name}", qualname)
                returned = self._returns(statement, owner if in_class else None)
                if returned is None:
                    continue
                if in_class and _is_property(statement):
                    self.found.setdefault(f"attr:{qualname}", returned)
                elif not _is_property(statement):
                    self.found[qualname] = returned

    def arguments(self, tree: ast.Module) -> None:
        """What calls pass to the project's functions and classes: `Strategy(account, ib)`
        after `ib = IB()` records `arg:app.Strategy#1` -> `call:ib_async.IB`.

        A scope (the module, each function) reads the calls under its top-level statements
        other than definitions, the module first, then the functions in breadth-first order,
        each scope's calls in breadth-first order (the first value recorded wins).
        """
        bodies, calls = _scope_calls(tree)
        for body, found in zip(bodies, calls, strict=True):
            if not found:
                continue
            assigned = {**self.module_calls, **_module_calls(list(_own_statements(body)))}
            for call in found:
                self._call_arguments(call, assigned)

    def _call_arguments(self, call: ast.Call, assigned: Mapping[str, ast.expr]) -> None:
        callee = self.type_of(call.func)
        if callee is None:
            return
        passed = [(str(i), a) for i, a in enumerate(call.args) if not isinstance(a, ast.Starred)]
        passed += [(k.arg, k.value) for k in call.keywords if k.arg is not None]
        for where, expression in passed:
            value = expression
            if isinstance(value, ast.Name):
                value = assigned.get(value.id, value)
            kind = self.built(value)
            if kind is not None:
                self.found.setdefault(f"arg:{callee}#{where}", kind)

    def _class(self, node: ast.ClassDef, qualname: str) -> None:
        self.found[f"class:{qualname}"] = node.name
        bases = [b for b in (self.type_of(base) for base in node.bases) if b is not None]
        if bases:
            self.found[f"bases:{qualname}"] = ",".join(bases)
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                kind = self.type_of(statement.annotation) or self.built(statement.value)
                if kind is not None:
                    self.found[f"attr:{qualname}.{statement.target.id}"] = kind
            elif isinstance(statement, ast.Assign):
                kind = self.built(statement.value)
                for target in statement.targets:
                    if kind is not None and isinstance(target, ast.Name):
                        self.found.setdefault(f"attr:{qualname}.{target.id}", kind)
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._self_attributes(statement, qualname)
        self.read(node.body, qualname, in_class=True)

    def _self_attributes(self, function: _Function, owner: str) -> None:
        arguments = [*function.args.posonlyargs, *function.args.args]
        if not arguments:
            return
        me = arguments[0].arg
        params = {
            a.arg: a.annotation
            for a in [*arguments[1:], *function.args.kwonlyargs]
            if a.annotation is not None
        }
        for statement in _own_statements(function.body):
            value: ast.expr | None
            targets: list[ast.expr]
            if isinstance(statement, ast.AnnAssign):
                targets, kind = [statement.target], self.type_of(statement.annotation)
                value = statement.value
            elif isinstance(statement, ast.Assign):
                targets, kind, value = statement.targets, None, statement.value
            else:
                continue
            if kind is None and isinstance(value, ast.Name) and value.id in params:
                kind = self.type_of(params[value.id])
            kind = kind or self.built(value)
            for target in targets:
                if (
                    kind is not None
                    and isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == me
                ):
                    self.found.setdefault(f"attr:{owner}.{target.attr}", kind)

    def _returns(self, function: _Function, owner: str | None) -> str | None:
        """The annotated return type, else what the `return` statements build."""
        if function.returns is not None:
            return self.type_of(function.returns)
        local: dict[str, ast.expr] = {}
        returned: list[ast.expr] = []
        for statement in _own_statements(function.body):
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        local.setdefault(target.id, statement.value)
            elif isinstance(statement, ast.Return) and statement.value is not None:
                returned.append(statement.value)
        for expression in returned:
            value = expression
            if isinstance(value, ast.Name):
                value = local.get(value.id) or self.module_calls.get(value.id) or value
            if (
                owner is not None
                and isinstance(value, ast.Attribute)
                and isinstance(value.value, ast.Name)
            ):
                kind = self.found.get(f"attr:{owner}.{value.attr}")
                if kind is not None:
                    return kind
            kind = self.built(value)
            if kind is not None:
                return kind
        return None


_DEFINITIONS: Final = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# The (scope, top-level statement) pairs a node is under, as indexes.
_Where = tuple[tuple[int, int], ...]


def _scope_calls(tree: ast.Module) -> tuple[list[list[ast.stmt]], list[list[ast.Call]]]:
    """The body of the module and of each function (breadth-first order), and per body the
    calls under its top-level statements that are not definitions: statement by statement,
    breadth-first under each.

    One pass over the tree: each node carries the (scope, statement) pairs whose statements
    contain it, which is what walking every scope's statements separately (`ast.walk`) found,
    at a fraction of the cost (`ast.walk` dominated building the project index).
    """
    bodies: list[list[ast.stmt]] = [tree.body]
    found: list[list[tuple[int, ast.Call]]] = [[]]
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    node_base = ast.AST
    level: list[tuple[ast.AST, _Where]] = [(tree, ())]
    while level:  # breadth-first, one depth at a time: the order `ast.walk` gives
        below: list[tuple[ast.AST, _Where]] = []
        add = below.append
        for node, where in level:
            node_type = type(node)
            if node_type is ast.Call:
                for scope, statement in where:
                    found[scope].append((statement, node))  # type: ignore[arg-type]  # node_type is ast.Call
            owner = -1
            if node_type in functions:
                owner = len(bodies)
                bodies.append(node.body)  # type: ignore[attr-defined]  # a def: node_type is in functions
                found.append([])
            elif node is tree:
                owner = 0
            for name in node._fields:
                if name == "ctx":  # Load/Store/Del: no children
                    continue
                value = getattr(node, name, None)
                if type(value) is list:
                    if owner >= 0 and name == "body":
                        for number, item in enumerate(value):
                            definition = isinstance(item, _DEFINITIONS)
                            add((item, where if definition else (*where, (owner, number))))
                        continue
                    for item in value:
                        if isinstance(item, node_base):
                            add((item, where))
                elif isinstance(value, node_base):
                    add((value, where))
        level = below
    # statement by statement (a stable sort keeps breadth-first order within each)
    calls = [[call for _, call in sorted(pairs, key=lambda pair: pair[0])] for pairs in found]
    return bodies, calls


def _own_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a function body, in nested blocks too, but not in nested defs
    (depth first, in source order; a stack, so deep nesting costs no recursion)."""
    todo = body[::-1]
    while todo:
        statement = todo.pop()
        yield statement
        if isinstance(statement, _DEFINITIONS):
            continue
        nested: list[ast.stmt] = []
        for name in ("body", "orelse", "finalbody"):
            nested += getattr(statement, name, []) or []
        for handler in getattr(statement, "handlers", []) or []:
            nested += handler.body
        for case in getattr(statement, "cases", []) or []:
            nested += case.body
        todo += nested[::-1]


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
        elif _star_broker(imports.get("*"), head):
            base = f"{imports['*']}.{head}"
        else:
            return None
        return f"{base}.{rest}" if rest else base
    for part in parts:
        found = _type_name(part, imports, classes, module_name)
        if found is not None:
            return found
    return None


def _star_broker(star: str | None, name: str) -> bool:
    """`name` comes from `from <broker library> import *` (only libraries: never import the
    project's own modules to list their names)."""
    return (
        star is not None
        and star.split(".", 1)[0] in DEFAULT_BROKER_LIBRARIES
        and name in public_names(star)
    )
