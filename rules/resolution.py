"""Name resolution shared by every rule: what does this expression refer to?

One pass (`ModuleResolver.build`) records, per scope, how each name is bound (imports, star
imports of broker libraries, assignments, annotations, parameters, `self.x`, function return
annotations, class bases). Bindings are evaluated lazily on the first query, so use before
definition and methods that see attributes set in `__init__` both work. The analysis is
flow-insensitive: if any binding of a name refers to the broker, the name does.

Values: MODULE / SYMBOL (a module or an object by qualified name), INSTANCE (an object of a
type; members of broker instances are broker instances too), RETURNS (a function whose result
is an INSTANCE). `None` means unresolved, which rules treat differently from "known local".
Qualified names pass through the project's re-exports, so `from app.connector import IB`
resolves to `ib_async.IB` when `app.connector` re-exports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

import libcst as cst
from ibguard.rules.broker_api import public_names

__all__ = ["ENGINE_OBJECT", "Kind", "ModuleResolver", "ProjectIndex", "Value"]

ENGINE_OBJECT: Final = "<object from the engine port>"
_WRAPPERS: Final = frozenset({"Optional", "Union", "Annotated", "Final", "ClassVar"})


class Kind(str, Enum):
    MODULE = "module"
    SYMBOL = "symbol"
    INSTANCE = "instance"
    RETURNS = "returns"


@dataclass(frozen=True, slots=True)
class Value:
    kind: Kind
    qualname: str


def _matches(qualname: str, wanted: str) -> bool:
    """Equal, or one is a dotted suffix of the other (relative imports lose the prefix)."""
    if qualname == wanted:
        return True
    short, long = sorted((qualname, wanted), key=len)
    return short.count(".") >= 1 and long.endswith("." + short)


@dataclass(frozen=True, slots=True)
class ProjectIndex:
    """Project-wide facts the rules need: libraries, types, connector modules, re-exports."""

    broker_libraries: tuple[str, ...]
    state_types: tuple[str, ...] = ()
    port_types: tuple[str, ...] = ()
    connector_modules: frozenset[str] = frozenset()
    reexports: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def is_broker(self, qualname: str) -> bool:
        return qualname.split(".", 1)[0] in self.broker_libraries

    def is_state_type(self, qualname: str) -> bool:
        return qualname == ENGINE_OBJECT or any(_matches(qualname, t) for t in self.state_types)

    def is_port_type(self, qualname: str) -> bool:
        return any(_matches(qualname, t) for t in self.port_types)

    def connector_module_of(self, qualname: str) -> str | None:
        """The connector module `qualname` is in (or is), if any."""
        for module in self.connector_modules:
            if qualname == module or qualname.startswith(module + "."):
                return module
        return None

    def canonical(self, qualname: str) -> str:
        """Follow re-exports: `app.connector.IB` -> `ib_async.IB`."""
        for _ in range(8):  # re-export chains are short; the bound stops cycles
            head, _, name = qualname.rpartition(".")
            target = self.reexports.get(head, {}).get(name)
            if target is None:
                star = self.reexports.get(head, {}).get("*")
                if star is None or name not in public_names(star):
                    return qualname
                target = f"{star}.{name}"
            qualname = target
        return qualname


# A binding is evaluated lazily: (how, node, scope). "how" picks the evaluation.
@dataclass(eq=False, slots=True)
class _Binding:
    how: str  # value | expr | annotation | returns | iter | unknown
    node: cst.CSTNode | None = None
    scope: _Scope | None = None
    value: Value | None = None


@dataclass(eq=False, slots=True)
class _Scope:
    parent: _Scope | None
    is_class: bool = False
    names: dict[str, list[_Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)

    def bind(self, name: str, binding: _Binding) -> None:
        target = self
        while name in target.globals and target.parent is not None:
            target = target.parent
        target.names.setdefault(name, []).append(binding)


class ModuleResolver(cst.CSTVisitor):
    """Resolves expressions of one module. Build it with `ModuleResolver.build`."""

    def __init__(self, module_name: str, is_package: bool, index: ProjectIndex) -> None:
        super().__init__()
        self.module_name = module_name
        self.is_package = is_package
        self.index = index
        self.module_scope = _Scope(parent=None)
        self._stack: list[_Scope] = [self.module_scope]
        self._classes: dict[str, _Scope] = {}  # class qualname -> its scope (attributes)
        self._class_qual: dict[int, str] = {}
        self._class_binding: dict[str, _Binding] = {}
        self._class_stack: list[tuple[str, _Scope, cst.ClassDef]] = []
        self._scope_of: dict[int, _Scope] = {}
        self._self_names: list[str | None] = []
        self._memo: dict[int, Value | None] = {}
        self._busy: set[int] = set()

    @classmethod
    def build(
        cls, wrapper: cst.MetadataWrapper, module_name: str, is_package: bool, index: ProjectIndex
    ) -> ModuleResolver:
        resolver = cls(module_name, is_package, index)
        wrapper.visit(resolver)
        return resolver

    # ---- pass 1: record bindings -------------------------------------------------------
    @property
    def _scope(self) -> _Scope:
        return self._stack[-1]

    def visit_Name(self, node: cst.Name) -> None:
        self._scope_of[id(node)] = self._scope

    def visit_Global(self, node: cst.Global) -> None:
        self._scope.globals.update(item.name.value for item in node.names)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                value = Value(Kind.MODULE, self.index.canonical(dotted))
                self._scope.bind(alias.asname.name.value, _Binding("value", value=value))
            else:
                top = dotted.split(".", 1)[0]
                self._scope.bind(top, _Binding("value", value=Value(Kind.MODULE, top)))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        base = self.absolute_module(node)
        if isinstance(node.names, cst.ImportStar):
            self._bind_star(base)
            return
        for alias in node.names:
            name = _dotted(alias.name)
            local = alias.asname.name.value if isinstance(alias.asname, cst.AsName) else name
            if isinstance(alias.asname, cst.AsName) and not isinstance(alias.asname.name, cst.Name):
                continue
            qual = self.index.canonical(f"{base}.{name}" if base else name)
            self._scope.bind(local, _Binding("value", value=Value(Kind.SYMBOL, qual)))

    def _bind_star(self, base: str) -> None:
        library = base.split(".", 1)[0]
        if self.index.is_broker(base):
            for name in public_names(library):
                self._scope.bind(
                    name, _Binding("value", value=Value(Kind.SYMBOL, f"{base}.{name}"))
                )
            return
        for name, target in self.index.reexports.get(base, {}).items():
            if name == "*":
                self._bind_star(target)
            else:
                self._scope.bind(name, _Binding("value", value=Value(Kind.SYMBOL, target)))

    def absolute_module(self, node: cst.ImportFrom) -> str:
        """The module an ImportFrom reads from, with relative dots resolved."""
        module = _dotted(node.module) if node.module is not None else ""
        level = len(node.relative)
        if level == 0:
            return module
        parts = self.module_name.split(".") if self.module_name else []
        if not self.is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
        return ".".join([*parts, module] if module else parts)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qual = self._class_qualname(node.name.value)
        binding = _Binding("class", node, self._scope)
        self._scope.bind(node.name.value, binding)
        scope = _Scope(parent=self._scope, is_class=True)
        self._classes[qual] = scope
        self._class_qual[id(node)] = qual
        self._class_binding[qual] = binding
        self._class_stack.append((qual, scope, node))
        self._stack.append(scope)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()
        self._class_stack.pop()

    def _class_qualname(self, name: str) -> str:
        outer = self._class_stack[-1][0] if self._class_stack else self.module_name
        return f"{outer}.{name}" if outer else name

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        decorators = {_dotted(d.decorator) for d in node.decorators}
        how = "annotation" if "property" in decorators else "returns"
        if node.returns is not None:
            self._scope.bind(node.name.value, _Binding(how, node.returns.annotation, self._scope))
        else:
            self._scope.bind(node.name.value, _Binding("unknown"))
        in_class = self._scope.is_class and bool(self._class_stack)
        scope = _Scope(parent=self._scope)
        params = [*node.params.posonly_params, *node.params.params]
        self_name: str | None = None
        if in_class and params and "staticmethod" not in decorators:
            first = params.pop(0)
            self_name = first.name.value
            kind = Kind.SYMBOL if "classmethod" in decorators else Kind.INSTANCE
            scope.bind(self_name, _Binding("self", value=Value(kind, self._class_stack[-1][0])))
        from_port = in_class and self._is_port_class(self._class_stack[-1][2])
        for param in [*params, *node.params.kwonly_params]:
            if from_port and not node.name.value.startswith("_"):
                scope.bind(
                    param.name.value, _Binding("value", value=Value(Kind.INSTANCE, ENGINE_OBJECT))
                )
            if param.annotation is not None:
                scope.bind(
                    param.name.value,
                    _Binding("annotation", param.annotation.annotation, self._scope),
                )
            else:
                scope.bind(param.name.value, _Binding("unknown"))
        self._self_names.append(self_name)
        self._stack.append(scope)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()
        self._self_names.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        scope = _Scope(parent=self._scope)
        for param in node.params.params:
            scope.bind(param.name.value, _Binding("unknown"))
        self._self_names.append(None)
        self._stack.append(scope)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._stack.pop()
        self._self_names.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target, _Binding("expr", node.value, self._scope))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind_target(
            node.target, _Binding("annotation", node.annotation.annotation, self._scope)
        )
        if node.value is not None:
            self._bind_target(node.target, _Binding("expr", node.value, self._scope))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, _Binding("expr", node.value, self._scope))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, _Binding("expr", node.item, self._scope))

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, _Binding("iter", node.iter, self._scope))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target, _Binding("iter", node.iter, self._scope))

    def _bind_target(self, target: cst.BaseExpression, binding: _Binding) -> None:
        if isinstance(target, cst.Name):
            self._scope.bind(target.value, binding)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value, _Binding("unknown"))
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, _Binding("unknown"))
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and self._self_names
            and target.value.value == self._self_names[-1]
            and self._class_stack
        ):
            self._class_stack[-1][1].bind(target.attr.value, binding)

    def _is_port_class(self, node: cst.ClassDef) -> bool:
        for base in node.bases:
            value = self.value_of(base.value)
            if value is not None and self.index.is_port_type(value.qualname):
                return True
        return False

    # ---- pass 2: queries ---------------------------------------------------------------
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

    def _scope_for(self, expr: cst.BaseExpression) -> _Scope:
        node: cst.CSTNode = expr
        while True:
            if isinstance(node, cst.Name):
                return self._scope_of.get(id(node), self.module_scope)
            if isinstance(node, (cst.Attribute, cst.Subscript)):
                node = node.value
            elif isinstance(node, cst.Call):
                node = node.func
            elif isinstance(node, cst.Await):
                node = node.expression
            else:
                return self.module_scope

    def _resolve(self, expr: cst.BaseExpression, scope: _Scope) -> Value | None:
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
        if owner.kind is Kind.SYMBOL and owner.qualname in self._classes:
            attrs = self._classes[owner.qualname].names
            if name in attrs:
                return self._best(self._evaluate(b) for b in attrs[name])
        if owner.kind in (Kind.MODULE, Kind.SYMBOL):
            return Value(Kind.SYMBOL, self.index.canonical(f"{owner.qualname}.{name}"))
        if owner.kind is Kind.INSTANCE:
            if self.index.is_broker(owner.qualname):
                return Value(Kind.INSTANCE, f"{owner.qualname}.{name}")
            attrs = self._classes.get(owner.qualname)
            if attrs is not None and name in attrs.names:
                return self._best(self._evaluate(b) for b in attrs.names[name])
            # A subclass of a broker class inherits the broker's members.
            klass = self._evaluate(self._class_binding[owner.qualname]) if attrs else None
            if klass is not None and self.index.is_broker(klass.qualname):
                return Value(Kind.INSTANCE, f"{klass.qualname}.{name}")
        return None

    def _call(self, call: cst.Call, scope: _Scope) -> Value | None:
        name = _dotted(call.func)
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
        if func.kind in (Kind.SYMBOL, Kind.RETURNS):
            return Value(Kind.INSTANCE, func.qualname)
        if func.kind is Kind.INSTANCE and self.index.is_broker(func.qualname):
            return Value(Kind.INSTANCE, func.qualname + "()")
        return None

    def _lookup(self, name: str, scope: _Scope) -> Value | None:
        current: _Scope | None = scope
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

    def _evaluate(self, binding: _Binding) -> Value | None:
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

    def _evaluate_uncached(
        self, binding: _Binding, node: cst.CSTNode, scope: _Scope
    ) -> Value | None:
        if binding.how == "class" and isinstance(node, cst.ClassDef):
            for base in node.bases:
                value = self._resolve(base.value, scope)
                if value is not None and self.index.is_broker(value.qualname):
                    return Value(Kind.SYMBOL, value.qualname)
            return Value(Kind.SYMBOL, self._class_qual[id(node)])
        if not isinstance(node, cst.BaseExpression):
            return None
        if binding.how == "expr":
            return self._resolve(node, scope)
        if binding.how == "iter":
            value = self._resolve(node, scope)
            return Value(Kind.INSTANCE, value.qualname + "[]") if self.is_broker(value) else None
        types = self._annotation(node, scope)
        if types is None:
            return None
        kind = Kind.RETURNS if binding.how == "returns" else Kind.INSTANCE
        return Value(kind, types.qualname)

    def _annotation(self, node: cst.BaseExpression, scope: _Scope) -> Value | None:
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
            if _dotted(node.value).rsplit(".", 1)[-1] not in _WRAPPERS:
                return None
            parts = [
                self._annotation(el.slice.value, scope)
                for el in node.slice
                if isinstance(el.slice, cst.Index)
            ]
            return self._best(iter(parts))
        value = self._resolve(node, scope)
        return value if value is not None and value.kind is Kind.SYMBOL else None


def _dotted(node: cst.CSTNode | None) -> str:
    """`a.b.c` for Name/Attribute chains (and decorators/calls of them), else ''."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head else ""
    if isinstance(node, cst.Call):
        return _dotted(node.func)
    return ""
