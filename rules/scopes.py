"""Pass 1 of resolution: record, per scope, how each name of one module is bound.

`collect_scopes` walks the module once and records bindings without evaluating any of them:
imports, star imports of broker libraries (and of project modules, through re-exports),
assignments, annotations, parameters, `self.x` (as class attributes), function return
annotations, class definitions, and the parameters of an engine port's public methods.
A `Binding` says how to evaluate itself later (`how` plus the node and the scope to read it
in); `resolution.ModuleResolver` evaluates it on the first query, so use before definition
and methods that see attributes set in `__init__` both work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from ibguard.rules.broker_api import public_names
from ibguard.rules.project_index import ProjectIndex
from ibguard.rules.traversal import walk
from ibguard.rules.values import Kind, Value

__all__ = [
    "Binding",
    "CallSite",
    "ModuleScopes",
    "Scope",
    "absolute_module",
    "collect_scopes",
    "dotted",
]


@dataclass(eq=False, slots=True)
class Binding:
    """One way a name is bound; evaluated lazily. `value` is set when known up front."""

    how: str  # value|self|expr|annotation|returns|body|iter|class|port|argument|unknown
    node: cst.CSTNode | None = None
    scope: Scope | None = None
    value: Value | None = None
    # how == "argument": the parameter `keyword` at `position` of the function or class
    # `callee`, bound by what this module's calls of it pass (`run_loop(app)`)
    callee: str = ""
    position: int = -1
    keyword: str = ""
    qualname: str = ""  # the callee's qualified name, for calls in other modules


@dataclass(eq=False, slots=True)
class CallSite:
    """A call of a name in this module: `f(a, b=c)`, or `Thread(target=f, args=(a,))`."""

    args: list[cst.BaseExpression]
    keywords: dict[str, cst.BaseExpression]


@dataclass(eq=False, slots=True)
class Scope:
    parent: Scope | None
    is_class: bool = False
    names: dict[str, list[Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)

    def bind(self, name: str, binding: Binding) -> None:
        target = self
        while name in target.globals and target.parent is not None:
            target = target.parent
        target.names.setdefault(name, []).append(binding)


@dataclass(eq=False, slots=True)
class ModuleScopes:
    """Everything pass 1 found in one module."""

    module: Scope
    classes: dict[str, Scope] = field(default_factory=dict)  # class qualname -> attributes
    class_qualname: dict[int, str] = field(default_factory=dict)  # id(ClassDef) -> qualname
    class_binding: dict[str, Binding] = field(default_factory=dict)  # qualname -> its binding
    scope_of: dict[int, Scope] = field(default_factory=dict)  # id(Name) -> enclosing scope
    calls: dict[str, list[CallSite]] = field(default_factory=dict)  # callee name -> calls


def collect_scopes(
    wrapper: cst.MetadataWrapper, module_name: str, is_package: bool, index: ProjectIndex
) -> ModuleScopes:
    builder = _ScopeBuilder(module_name, is_package, index)
    walk(wrapper.module, [builder])
    return builder.found


def dotted(node: cst.CSTNode | None) -> str:
    """`a.b.c` for Name/Attribute chains (and decorators/calls of them), else ''."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else ""
    if isinstance(node, cst.Call):
        return dotted(node.func)
    return ""


def absolute_module(node: cst.ImportFrom, module_name: str, is_package: bool) -> str:
    """The module an ImportFrom in `module_name` reads from, with relative dots resolved."""
    module = dotted(node.module) if node.module is not None else ""
    level = len(node.relative)
    if level == 0:
        return module
    parts = module_name.split(".") if module_name else []
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*parts, module] if module else parts)


class _ScopeBuilder(cst.CSTVisitor):
    def __init__(self, module_name: str, is_package: bool, index: ProjectIndex) -> None:
        super().__init__()
        self.module_name = module_name
        self.is_package = is_package
        self.index = index
        self.found = ModuleScopes(module=Scope(parent=None))
        self._stack: list[Scope] = [self.found.module]
        # (qualname, attribute scope, the binding its port-method parameters get)
        self._class_stack: list[tuple[str, Scope, Binding]] = []
        self._self_names: list[str | None] = []

    @property
    def _scope(self) -> Scope:
        return self._stack[-1]

    def visit_Name(self, node: cst.Name) -> None:
        self.found.scope_of[id(node)] = self._scope

    def visit_Global(self, node: cst.Global) -> None:
        self._scope.globals.update(item.name.value for item in node.names)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = dotted(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                value = Value(Kind.MODULE, self.index.canonical(name))
                self._scope.bind(alias.asname.name.value, Binding("value", value=value))
            else:
                top = name.split(".", 1)[0]
                self._scope.bind(top, Binding("value", value=Value(Kind.MODULE, top)))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        base = absolute_module(node, self.module_name, self.is_package)
        if isinstance(node.names, cst.ImportStar):
            self._bind_star(base)
            return
        for alias in node.names:
            name = dotted(alias.name)
            local = name
            if isinstance(alias.asname, cst.AsName):
                if not isinstance(alias.asname.name, cst.Name):
                    continue
                local = alias.asname.name.value
            qual = self.index.canonical(f"{base}.{name}" if base else name)
            self._scope.bind(local, Binding("value", value=Value(Kind.SYMBOL, qual)))

    def _bind_star(self, base: str) -> None:
        library = base.split(".", 1)[0]
        if self.index.is_broker(base):
            for name in public_names(library):
                self._scope.bind(name, Binding("value", value=Value(Kind.SYMBOL, f"{base}.{name}")))
            return
        for name, target in self.index.reexports.get(base, {}).items():
            if name == "*":
                self._bind_star(target)
            else:
                self._scope.bind(name, Binding("value", value=Value(Kind.SYMBOL, target)))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        outer = self._class_stack[-1][0] if self._class_stack else self.module_name
        qual = f"{outer}.{node.name.value}" if outer else node.name.value
        binding = Binding("class", node, self._scope)
        self._scope.bind(node.name.value, binding)
        scope = Scope(parent=self._scope, is_class=True)
        self.found.classes[qual] = scope
        self.found.class_qualname[id(node)] = qual
        self.found.class_binding[qual] = binding
        self._class_stack.append((qual, scope, Binding("port", node, self._scope)))
        self._stack.append(scope)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()
        self._class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        decorators = {dotted(d.decorator) for d in node.decorators}
        how = "annotation" if "property" in decorators else "returns"
        if node.returns is not None:
            self._scope.bind(node.name.value, Binding(how, node.returns.annotation, self._scope))
        else:  # what its `return` statements give
            body = "body-property" if "property" in decorators else "body"
            self._scope.bind(node.name.value, Binding(body, node, self._scope))
        in_class = self._scope.is_class and bool(self._class_stack)
        # Unannotated parameters of plain functions and of __init__ take what this module's
        # calls pass (`Algo(ib, ...)`, `Thread(target=run_loop, args=(app,))`).
        callee = qualname = ""
        if not in_class:
            callee = node.name.value
            if self._scope is self.found.module:
                qualname = f"{self.module_name}.{callee}" if self.module_name else callee
        elif node.name.value == "__init__":
            qualname = self._class_stack[-1][0]
            callee = qualname.rsplit(".", 1)[-1]
        scope = Scope(parent=self._scope)
        params = [*node.params.posonly_params, *node.params.params]
        self_name: str | None = None
        if in_class and params and "staticmethod" not in decorators:
            first = params.pop(0)
            self_name = first.name.value
            kind = Kind.SYMBOL if "classmethod" in decorators else Kind.INSTANCE
            scope.bind(self_name, Binding("self", value=Value(kind, self._class_stack[-1][0])))
        # A public method of a port subclass receives engine objects (if the class is a port).
        from_port = self._class_stack[-1][2] if in_class else None
        for param in [*params, *node.params.kwonly_params]:
            if from_port is not None and not node.name.value.startswith("_"):
                scope.bind(param.name.value, from_port)
            if param.annotation is not None:
                scope.bind(
                    param.name.value,
                    Binding("annotation", param.annotation.annotation, self._scope),
                )
            else:
                scope.bind(param.name.value, Binding("unknown"))
                if callee:
                    position = params.index(param) if param in params else -1
                    scope.bind(
                        param.name.value,
                        Binding(
                            "argument",
                            callee=callee,
                            position=position,
                            keyword=param.name.value,
                            qualname=qualname,
                        ),
                    )
        self._self_names.append(self_name)
        self._stack.append(scope)

    def visit_Call(self, node: cst.Call) -> None:
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        keywords = {
            a.keyword.value: a.value for a in node.args if a.keyword is not None and not a.star
        }
        if isinstance(node.func, cst.Name):
            site = CallSite(positional, keywords)
            self.found.calls.setdefault(node.func.value, []).append(site)
        target = keywords.get("target")
        if dotted(node.func).endswith("Thread") and isinstance(target, cst.Name):
            passed = keywords.get("args")
            elements = passed.elements if isinstance(passed, (cst.Tuple, cst.List)) else []
            site = CallSite([e.value for e in elements], {})
            self.found.calls.setdefault(target.value, []).append(site)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()
        self._self_names.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        scope = Scope(parent=self._scope)
        for param in node.params.params:
            scope.bind(param.name.value, Binding("unknown"))
        self._self_names.append(None)
        self._stack.append(scope)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._stack.pop()
        self._self_names.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target, Binding("expr", node.value, self._scope))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind_target(
            node.target, Binding("annotation", node.annotation.annotation, self._scope)
        )
        if node.value is not None:
            self._bind_target(node.target, Binding("expr", node.value, self._scope))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, Binding("expr", node.value, self._scope))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, Binding("expr", node.item, self._scope))

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, Binding("iter", node.iter, self._scope))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target, Binding("iter", node.iter, self._scope))

    def _bind_target(self, target: cst.BaseExpression, binding: Binding) -> None:
        if isinstance(target, cst.Name):
            self._scope.bind(target.value, binding)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value, Binding("unknown"))
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, Binding("unknown"))
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and self._self_names
            and target.value.value == self._self_names[-1]
            and self._class_stack
        ):
            self._class_stack[-1][1].bind(target.attr.value, binding)
