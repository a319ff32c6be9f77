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
from ibguard.rules.broker_api import CLIENT_CLASSES
from ibguard.rules.broker_model import EVENT, PLAIN, BrokerModel
from ibguard.rules.project_index import ProjectIndex
from ibguard.rules.scopes import Binding, Scope, absolute_module, collect_scopes, dotted
from ibguard.rules.traversal import children
from ibguard.rules.values import ENGINE_OBJECT, PLAIN_DATA, Kind, Role, Value

__all__ = ["ModuleResolver"]

_WRAPPERS: Final = frozenset({"Optional", "Union", "Annotated", "Final", "ClassVar"})
_EVENT_BASES: Final = frozenset({"eventkit.Event", "eventkit.event.Event", "Event"})
LIST: Final = "list:"


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
        self._named_memo: dict[tuple[int, str], Value | None] = {}
        self._named_busy: set[tuple[int, str]] = set()

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
        if isinstance(expr, cst.Subscript):
            return self._element(self._resolve(expr.value, scope))
        return None

    def _element(self, sequence: Value | None) -> Value | None:
        """An element of a broker sequence (`for p in ib.positions()`, `bars[-1]`)."""
        if sequence is None or sequence.kind is not Kind.INSTANCE:
            return None
        if sequence.qualname.startswith(LIST):
            return self._library_type(sequence.qualname[len(LIST) :])
        if self.is_broker(sequence):
            found = self.index.broker_model(sequence.qualname)
            klass = found.class_named(sequence.qualname) if found is not None else None
            if found is not None and klass is not None:  # BarDataList and other list types
                element = found.member(klass, "__getitem__")
                if element is not None and element[1]:
                    return self._library_type(element[1])
            return Value(Kind.INSTANCE, sequence.qualname + "[]")
        return None

    def _member(self, owner: Value | None, name: str) -> Value | None:
        if owner is None:
            return None
        classes = self._scopes.classes
        if owner.kind is Kind.SYMBOL and owner.qualname in classes:
            attrs = classes[owner.qualname].names
            if name in attrs:
                return self._best(self._evaluate(b) for b in attrs[name])
        if owner.kind is Kind.SYMBOL and not self.is_broker(owner):
            declared = self.index.attribute_type(owner.qualname, name)
            if declared is not None:  # a class attribute of a class of another module
                return self._typed(declared)
        if owner.kind in (Kind.MODULE, Kind.SYMBOL):
            return Value(Kind.SYMBOL, self.index.canonical(f"{owner.qualname}.{name}"))
        if owner.kind is Kind.INSTANCE:
            if self.index.is_broker(owner.qualname):
                typed = self._broker_member(owner.qualname, name)
                return typed or Value(Kind.INSTANCE, f"{owner.qualname}.{name}")
            return self._project_member(owner.qualname, name)
        return None

    def _broker_member(self, type_name: str, name: str) -> Value | None:
        """A member of a broker object, typed by the library's model (None: not described)."""
        found = self.index.broker_model(type_name)
        klass = found.class_named(type_name) if found is not None else None
        if found is None or klass is None:
            return None
        member = found.member(klass, name)
        if member is not None and member[0] == "field" and member[1] not in ("", EVENT):
            return self._library_type(member[1])
        return Value(Kind.INSTANCE, f"{klass}.{name}")  # a method, an event, or untyped

    def _library_type(self, type_name: str) -> Value:
        """An instance of a type named in a broker model: plain data, a list, a class."""
        if type_name == PLAIN:
            return Value(Kind.INSTANCE, PLAIN_DATA)
        return Value(Kind.INSTANCE, type_name)

    def _project_member(self, class_name: str, name: str) -> Value | None:
        """A member of an instance of a project class: its own, or its bases' (any module)."""
        for current in self._mro(class_name):
            if self.index.is_broker(current):
                found = self.index.broker_model(current)
                klass = found.class_named(current) if found is not None else None
                if found is not None and klass is not None and found.member(klass, name) is None:
                    continue  # `class App(EWrapper, EClient)`: reqMktData is EClient's
                return self._broker_member(current, name) or Value(
                    Kind.INSTANCE, f"{current}.{name}"
                )
            scope = self._scopes.classes.get(current)
            if scope is not None:
                if name in scope.names:
                    return self._named(scope, name)
                continue
            declared = self.index.attribute_type(current, name)
            if declared is not None:
                return self._typed(declared)
            method = self._project_function(f"{current}.{name}")
            if method is not None:
                return method
        return None

    def _mro(self, class_name: str) -> Iterator[str]:
        """A project class and its bases (this module's or any project module's), each once."""
        seen: set[str] = set()
        todo = [class_name]
        while todo and len(seen) < 32:
            current = todo.pop(0)
            if current in seen:
                continue
            seen.add(current)
            yield current
            if self.index.is_broker(current):
                continue
            binding = self._scopes.class_binding.get(current)
            if binding is not None and isinstance(binding.node, cst.ClassDef):
                where = binding.scope or self._scopes.module
                bases = [self._resolve(b.value, where) for b in binding.node.bases]
                todo[:0] = [b.qualname for b in bases if b is not None]
            else:
                todo[:0] = list(self.index.bases(current))

    def _typed(self, type_name: str, depth: int = 0) -> Value | None:
        """An instance of the type a project fact names (`call:Q`: what calling Q gives)."""
        if not type_name.startswith("call:"):
            return Value(Kind.INSTANCE, type_name)
        return self._called(Value(Kind.SYMBOL, type_name[len("call:") :]), depth + 1)

    def _project_function(self, qualname: str, depth: int = 0) -> Value | None:
        """A project function whose return type is known (in any module), as a RETURNS."""
        returned = self.index.return_type(qualname)
        if returned is None or depth > 8:
            return None
        if returned.startswith("call:"):
            value = self._typed(returned, depth)
            return Value(Kind.RETURNS, value.qualname) if value is not None else None
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
        return self._called(self._resolve(call.func, scope))

    def _called(self, func: Value | None, depth: int = 0) -> Value | None:
        """What calling `func` gives."""
        if func is None or depth > 8:
            return None
        if func.kind is Kind.SYMBOL and self.is_broker(func):
            return self._broker_result(func)
        if func.kind is Kind.SYMBOL:
            returned = self._project_function(func.qualname, depth)
            if returned is None and not func.qualname.rsplit(".", 1)[-1][:1].isupper():
                return None  # a function whose result cannot be told, not a class
            func = returned or func
        if func.kind in (Kind.SYMBOL, Kind.RETURNS):
            return Value(Kind.INSTANCE, func.qualname)
        if func.kind is Kind.INSTANCE and self.is_broker(func):
            return self._broker_result(func)
        return None

    def _broker_result(self, func: Value) -> Value:
        """What a call of a broker class, function or method returns, as the library says;
        `<callee>()` when it does not say."""
        found = self.index.broker_model(func.qualname)
        if found is not None:
            if func.kind is Kind.SYMBOL:
                klass = found.class_named(func.qualname)
                if klass is not None:
                    return Value(Kind.INSTANCE, klass)
                returned = found.functions.get(found.resolve(func.qualname), "")
            else:
                owner, _, name = func.qualname.rpartition(".")
                klass = found.class_named(owner)
                member = found.member(klass, name) if klass is not None else None
                returned = member[1] if member is not None and member[0] == "method" else ""
            if returned not in ("", EVENT):
                return self._library_type(returned)
        return Value(Kind.INSTANCE, func.qualname + "()")

    def role(self, value: Value | None) -> Role:
        """What `value` is to the broker library, as its model says."""
        if value is None or not self.is_broker(value):
            return Role.NONE
        if value.kind is Kind.MODULE:
            return Role.MODULE
        if value.kind is Kind.RETURNS:
            return Role.DERIVED
        found = self.index.broker_model(value.qualname)
        if found is None:
            return Role.UNTYPED
        qualname = value.qualname
        if "()" in qualname or "[]" in qualname:
            return Role.DERIVED
        klass = found.class_named(qualname)
        if value.kind is Kind.SYMBOL:
            if klass is not None:
                return Role.CLASS
            resolved = found.resolve(qualname)
            if resolved in found.functions:
                return Role.FUNCTION
            prefix = resolved + "."
            if any(name.startswith(prefix) for name in (*found.functions, *found.classes)):
                return Role.MODULE
            return Role.UNTYPED
        if klass is not None:
            return self._instance_role(found, klass)
        owner, _, name = qualname.rpartition(".")
        klass = found.class_named(owner)
        if klass is None:
            if self.role(Value(Kind.INSTANCE, owner)) is Role.EVENT:
                return Role.EVENT_METHOD
            return Role.DERIVED
        client = self._instance_role(found, klass) is Role.CLIENT
        member = found.member(klass, name)
        if member is not None and member[0] == "field" and member[1] == EVENT:
            return Role.EVENT
        if client:
            return Role.CLIENT_METHOD
        if member is not None and member[0] == "method":
            return Role.DATA_METHOD
        return Role.DERIVED

    def _instance_role(self, found: BrokerModel, klass: str) -> Role:
        names = {name.rsplit(".", 1)[-1] for name in found.mro(klass)}
        if names & CLIENT_CLASSES:
            return Role.CLIENT
        if _EVENT_BASES & {*names, *(b for k in found.mro(klass) for b in found.classes[k].bases)}:
            return Role.EVENT
        return Role.DATA

    def _lookup(self, name: str, scope: Scope) -> Value | None:
        current: Scope | None = scope
        first = True
        while current is not None:
            # Class bodies are not enclosing scopes for the functions defined in them.
            if (first or not current.is_class) and name in current.names:
                return self._named(current, name)
            first = False
            current = current.parent
        return None

    def _named(self, scope: Scope, name: str) -> Value | None:
        """The best value of every binding of `name` in `scope`, computed once.

        A name assigned 45k times in one module made every use walk all its bindings again
        (quadratic). A query that comes back to a name still being computed (x = x.y) gets an
        uncached answer, as before, so no partial answer is remembered.
        """
        key = (id(scope), name)
        if key in self._named_memo:
            return self._named_memo[key]
        if key in self._named_busy:
            return self._best(self._evaluate(b) for b in scope.names[name])
        self._named_busy.add(key)
        try:
            value = self._best(self._evaluate(b) for b in scope.names[name])
        finally:
            self._named_busy.discard(key)
        self._named_memo[key] = value
        return value

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
        if binding.value is not None:
            return binding.value
        if binding.how != "argument" and (binding.node is None or binding.scope is None):
            return None
        key = id(binding)
        if key in self._memo:
            return self._memo[key]
        if key in self._busy:  # x = x.y and similar cycles
            return None
        self._busy.add(key)
        try:
            if binding.how == "argument":
                result = self._argument(binding)
            elif binding.how.startswith("body") and isinstance(binding.node, cst.FunctionDef):
                result = self._returned(binding.node, call=binding.how == "body")
            elif binding.node is not None and binding.scope is not None:
                result = self._evaluate_uncached(binding, binding.node, binding.scope)
            else:
                result = None
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
            return self._element(self._resolve(node, scope))
        types = self._annotation(node, scope)
        if types is None:
            return None
        kind = Kind.RETURNS if binding.how == "returns" else Kind.INSTANCE
        return Value(kind, types.qualname)

    def _argument(self, binding: Binding) -> Value | None:
        """What the project's calls pass for a parameter (broker if any call passes one)."""
        passed = []
        for site in self._scopes.calls.get(binding.callee, []):
            if 0 <= binding.position < len(site.args):
                passed.append(site.args[binding.position])
            elif binding.keyword in site.keywords:
                passed.append(site.keywords[binding.keyword])
        values = [self.value_of(expression) for expression in passed]
        if binding.qualname:  # what other modules' calls pass (`Strategy(account, ib)`)
            elsewhere = self.index.argument_type(
                binding.qualname, binding.position, binding.keyword
            )
            if elsewhere is not None:
                values.append(self._typed(elsewhere))
        return self._evidence(self._best(iter(values)))

    def _evidence(self, found: Value | None) -> Value | None:
        """Inferred bindings (call-site arguments, returns of unannotated functions) only add
        what resolution can follow - broker values, engine state, instances of the project's
        classes - so a guess about anything else never hides a name the rules would
        otherwise judge by what it says."""
        if found is None or found.kind is not Kind.INSTANCE:
            return None
        name = found.qualname
        if self.is_broker(found) or self.is_state(found) or name.startswith(LIST):
            return found
        known = name in self._scopes.classes or self.index.is_class(name)
        return found if known else None

    def _returned(self, function: cst.FunctionDef, *, call: bool) -> Value | None:
        """An unannotated function of this module, by what its `return` statements give: a
        RETURNS (a property: the INSTANCE it reads as)."""
        found = self._evidence(
            self._best(self.value_of(expression) for expression in _returns_of(function))
        )
        if found is None:
            return None
        return Value(Kind.RETURNS, found.qualname) if call else found

    def _class(self, binding: Binding, node: cst.ClassDef, scope: Scope) -> Value | None:
        """A class name (a broker class if it subclasses one), or a port method's parameter."""
        bases = [self._resolve(base.value, scope) for base in node.bases]
        if binding.how == "port":
            if any(b is not None and self.index.is_port_type(b.qualname) for b in bases):
                return Value(Kind.INSTANCE, ENGINE_OBJECT)
            return None
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


def _returns_of(function: cst.FunctionDef) -> Iterator[cst.BaseExpression]:
    """The values of a function's own `return` statements (not of nested functions)."""
    todo: list[cst.CSTNode] = [function.body]
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Return):
            if node.value is not None:
                yield node.value
            continue
        # Statements are never inside expressions: no need to look into them.
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.BaseExpression)):
            continue
        todo.extend(children(node))
