"""Pass 2 of resolution, shared by every rule: what does this expression refer to?

`ModuleResolver.build` runs pass 1 (`scopes.collect_scopes`) once per module; queries then
evaluate the recorded bindings lazily and memoise each one. The analysis is flow-insensitive:
if any binding of a name refers to the broker, the name does. Resolution sees through
aliases, `ib = IB()`, `self.ib`, parameters and return values annotated with broker types
(through Optional, Union, `X | None` and strings; in this module or, through
`ProjectIndex.return_type`, in any project module), `getattr(ib, "name")`,
`importlib.import_module("ib_insync")`, subclasses of broker classes, and the project's
re-exports. Answers are `values.Value`s, or `None` when it cannot be told.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import libcst as cst
from ibguard.rules.project_index import ProjectIndex
from ibguard.rules.scopes import Binding, Scope, absolute_module, collect_scopes, dotted
from ibguard.rules.values import ENGINE_OBJECT, Kind, Value

__all__ = ["ModuleResolver"]

_WRAPPERS: Final = frozenset({"Optional", "Union", "Annotated", "Final", "ClassVar"})


class ModuleResolver:
    """Resolves expressions of one module. Build it with `ModuleResolver.build`."""

    def __init__(
        self, wrapper: cst.MetadataWrapper, module_name: str, is_package: bool, index: ProjectIndex
    ) -> None:
        self.module_name = module_name
        self.is_package = is_package
        self.index = index
        self._scopes = collect_scopes(wrapper, module_name, is_package, index)
        self._memo: dict[int, Value | None] = {}
        self._busy: set[int] = set()

    @classmethod
    def build(
        cls, wrapper: cst.MetadataWrapper, module_name: str, is_package: bool, index: ProjectIndex
    ) -> ModuleResolver:
        return cls(wrapper, module_name, is_package, index)

    def absolute_module(self, node: cst.ImportFrom) -> str:
        """The module an ImportFrom reads from, with relative dots resolved."""
        return absolute_module(node, self.module_name, self.is_package)

    def value_of(self, expr: cst.BaseExpression) -> Value | None:
        """What `expr` refers to, or None when it cannot be told."""
        return self._resolve(expr, self._scope_for(expr))

    def is_broker(self, value: Value | None) -> bool:
        return value is not None and self.index.is_broker(value.qualname)

    def is_state(self, value: Value | None) -> bool:
        return (
            value is not None
            and value.kind is Kind.INSTANCE
            and self.index.is_state_type(value.qualname)
        )

    def _scope_for(self, expr: cst.BaseExpression) -> Scope:
        node: cst.CSTNode = expr
        while True:
            if isinstance(node, cst.Name):
                return self._scopes.scope_of.get(id(node), self._scopes.module)
            if isinstance(node, (cst.Attribute, cst.Subscript)):
                node = node.value
            elif isinstance(node, cst.Call):
                node = node.func
            elif isinstance(node, cst.Await):
                node = node.expression
            else:
                return self._scopes.module

    def _resolve(self, expr: cst.BaseExpression, scope: Scope) -> Value | None:
        if isinstance(expr, cst.Name):
            return self._lookup(expr.value, scope)
        if isinstance(expr, cst.Attribute):
            return self._member(self._resolve(expr.value, scope), expr.attr.value)
        if isinstance(expr, cst.Call):
            return self._call(expr, scope)
        if isinstance(expr, cst.Await):
            return self._resolve(expr.expression, scope)
        return None

    def _member(self, owner: Value | None, name: str) -> Value | None:
        if owner is None:
            return None
        classes = self._scopes.classes
        if owner.kind is Kind.SYMBOL and owner.qualname in classes:
            attrs = classes[owner.qualname].names
            if name in attrs:
                return self._best(self._evaluate(b) for b in attrs[name])
        if owner.kind in (Kind.MODULE, Kind.SYMBOL):
            return Value(Kind.SYMBOL, self.index.canonical(f"{owner.qualname}.{name}"))
        if owner.kind is Kind.INSTANCE:
            if self.index.is_broker(owner.qualname):
                return Value(Kind.INSTANCE, f"{owner.qualname}.{name}")
            scope = classes.get(owner.qualname)
            if scope is not None and name in scope.names:
                return self._best(self._evaluate(b) for b in scope.names[name])
            # A subclass of a broker class inherits the broker's members.
            klass = self._evaluate(self._scopes.class_binding[owner.qualname]) if scope else None
            if klass is not None and self.index.is_broker(klass.qualname):
                return Value(Kind.INSTANCE, f"{klass.qualname}.{name}")
            # A method of a class of another project module, by its annotated return type.
            return self._project_function(f"{owner.qualname}.{name}")
        return None

    def _project_function(self, qualname: str) -> Value | None:
        """A project function annotated (in any module) to return a type, as a RETURNS.

        What it returns of a broker type is data the connector handed over (`...()`), like
        the result of a broker call: only client methods on it count as broker calls.
        """
        returned = self.index.return_type(qualname)
        if returned is None:
            return None
        if self.index.is_broker(returned):
            returned += "()"
        return Value(Kind.RETURNS, returned)

    def _call(self, call: cst.Call, scope: Scope) -> Value | None:
        name = dotted(call.func)
        first = call.args[0].value if call.args else None
        if name == "getattr" and first is not None and len(call.args) >= 2:
            owner = self._resolve(first, scope)
            attr = call.args[1].value
            if isinstance(attr, cst.SimpleString) and isinstance(attr.evaluated_value, str):
                return self._member(owner, attr.evaluated_value)
            return self._member(owner, "?") if self.is_broker(owner) else None
        if name in ("importlib.import_module", "import_module", "__import__"):
            if isinstance(first, cst.SimpleString) and isinstance(first.evaluated_value, str):
                return Value(Kind.MODULE, self.index.canonical(first.evaluated_value))
            return None
        func = self._resolve(call.func, scope)
        if func is None:
            return None
        if func.kind is Kind.SYMBOL:
            func = self._project_function(func.qualname) or func
        if func.kind in (Kind.SYMBOL, Kind.RETURNS):
            return Value(Kind.INSTANCE, func.qualname)
        if func.kind is Kind.INSTANCE and self.index.is_broker(func.qualname):
            return Value(Kind.INSTANCE, func.qualname + "()")
        return None

    def _lookup(self, name: str, scope: Scope) -> Value | None:
        current: Scope | None = scope
        first = True
        while current is not None:
            # Class bodies are not enclosing scopes for the functions defined in them.
            if (first or not current.is_class) and name in current.names:
                return self._best(self._evaluate(b) for b in current.names[name])
            first = False
            current = current.parent
        return None

    def _best(self, values: Iterator[Value | None]) -> Value | None:
        """Broker beats engine state beats anything known; None only if nothing is known."""
        found = [v for v in values if v is not None]
        for value in found:
            if self.is_broker(value):
                return value
        for value in found:
            if self.is_state(value):
                return value
        return found[0] if found else None

    def _evaluate(self, binding: Binding) -> Value | None:
        if binding.value is not None or binding.node is None or binding.scope is None:
            return binding.value
        key = id(binding)
        if key in self._memo:
            return self._memo[key]
        if key in self._busy:  # x = x.y and similar cycles
            return None
        self._busy.add(key)
        try:
            result = self._evaluate_uncached(binding, binding.node, binding.scope)
        finally:
            self._busy.discard(key)
        self._memo[key] = result
        return result

    def _evaluate_uncached(self, binding: Binding, node: cst.CSTNode, scope: Scope) -> Value | None:
        if isinstance(node, cst.ClassDef):
            return self._class(binding, node, scope)
        if not isinstance(node, cst.BaseExpression):
            return None
        if binding.how == "expr":
            return self._resolve(node, scope)
        if binding.how == "iter":
            value = self._resolve(node, scope)
            if value is None or not self.is_broker(value):
                return None
            return Value(Kind.INSTANCE, value.qualname + "[]")
        types = self._annotation(node, scope)
        if types is None:
            return None
        kind = Kind.RETURNS if binding.how == "returns" else Kind.INSTANCE
        return Value(kind, types.qualname)

    def _class(self, binding: Binding, node: cst.ClassDef, scope: Scope) -> Value | None:
        """A class name (a broker class if it subclasses one), or a port method's parameter."""
        bases = [self._resolve(base.value, scope) for base in node.bases]
        if binding.how == "port":
            if any(b is not None and self.index.is_port_type(b.qualname) for b in bases):
                return Value(Kind.INSTANCE, ENGINE_OBJECT)
            return None
        for value in bases:
            if value is not None and self.index.is_broker(value.qualname):
                return Value(Kind.SYMBOL, value.qualname)
        return Value(Kind.SYMBOL, self._scopes.class_qualname[id(node)])

    def _annotation(self, node: cst.BaseExpression, scope: Scope) -> Value | None:
        """The type an annotation names, seeing through Optional, Union, `X | None`, strings."""
        if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
            try:
                return self._annotation(cst.parse_expression(node.evaluated_value), scope)
            except cst.ParserSyntaxError:
                return None
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return self._best(
                iter([self._annotation(node.left, scope), self._annotation(node.right, scope)])
            )
        if isinstance(node, cst.Subscript):
            if dotted(node.value).rsplit(".", 1)[-1] not in _WRAPPERS:
                return None
            parts = [
                self._annotation(el.slice.value, scope)
                for el in node.slice
                if isinstance(el.slice, cst.Index)
            ]
            return self._best(iter(parts))
        value = self._resolve(node, scope)
        return value if value is not None and value.kind is Kind.SYMBOL else None
