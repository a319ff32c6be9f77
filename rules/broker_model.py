"""What a broker library says about itself: its classes, their fields and methods, and the
types those hold and return, read from the library's own source and annotations.

`model(library)` answers from, in order: this process's memo; the table committed next to
this module (`broker_model_<library>.json`) when the installed version is the one it was
generated from, or when the library is not installed; a table cached under the user's cache
folder for the installed version; else it reads the installed package with the stdlib `ast`
(located with `importlib.util.find_spec`, never imported) and caches the result.

Types are strings: a class's qualified name in the module that defines it
(`ib_async.order.Trade`), `list:<type>` for sequences, `event` for `eventkit.Event` and its
subclasses, `plain` for every value that is not the broker's (str, float, Decimal, datetime,
DataFrame, dict, ...), and '' when the library does not say (no annotation, `self.x = None`).
Regenerate the committed tables with `python -m ibguard.rules.broker_model`.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

from ibguard.rules.broker_api import CLIENT_CLASSES

__all__ = [
    "EVENT",
    "PLAIN",
    "BrokerClass",
    "BrokerModel",
    "client_method_names",
    "model",
    "read_library",
]

PLAIN: Final = "plain"
EVENT: Final = "event"
_LIST: Final = "list:"
_EVENT_CLASSES: Final = frozenset({"eventkit.Event", "eventkit.event.Event"})
# Annotations that wrap the type a value has (awaiting a coroutine gives its result).
_WRAPPERS: Final = frozenset(
    {"Optional", "Union", "Annotated", "Final", "ClassVar", "Awaitable", "Coroutine", "Future"}
)
_SEQUENCES: Final = frozenset(
    {"list", "List", "Sequence", "Iterable", "Iterator", "AsyncIterator", "Set", "set",
     "frozenset", "FrozenSet", "Tuple", "tuple", "Deque", "deque", "Generator"}
)  # fmt: skip
_HERE: Final = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class BrokerClass:
    """One class of the library: base classes, field types, method return types."""

    bases: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    methods: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BrokerModel:
    """Everything read from one version of one broker library."""

    library: str
    version: str
    classes: Mapping[str, BrokerClass] = field(default_factory=dict)
    functions: Mapping[str, str] = field(default_factory=dict)  # module function -> returns
    aliases: Mapping[str, str] = field(default_factory=dict)  # re-exported name -> its source

    def resolve(self, qualname: str) -> str:
        """Follow the library's re-exports: `ib_async.Trade` -> `ib_async.order.Trade`."""
        for _ in range(8):
            target = self.aliases.get(qualname)
            if target is None:
                return qualname
            qualname = target
        return qualname

    def class_named(self, qualname: str) -> str | None:
        found = self.resolve(qualname)
        return found if found in self.classes else None

    def mro(self, qualname: str) -> Iterator[str]:
        """The class and its bases known to the library, depth first, each once."""
        seen: set[str] = set()
        todo = [qualname]
        while todo:
            current = self.resolve(todo.pop(0))
            if current in seen or current not in self.classes:
                continue
            seen.add(current)
            yield current
            todo[:0] = list(self.classes[current].bases)

    def member(self, class_name: str, name: str) -> tuple[str, str] | None:
        """("field", type) or ("method", return type) of `name` on the class or its bases."""
        for current in self.mro(class_name):
            klass = self.classes[current]
            if name in klass.fields:
                return ("field", klass.fields[name])
            if name in klass.methods:
                return ("method", klass.methods[name])
        return None

    def to_json(self) -> str:
        data = {
            "library": self.library,
            "version": self.version,
            "aliases": dict(sorted(self.aliases.items())),
            "functions": dict(sorted(self.functions.items())),
            "classes": {
                name: {
                    "bases": list(klass.bases),
                    "fields": dict(sorted(klass.fields.items())),
                    "methods": dict(sorted(klass.methods.items())),
                }
                for name, klass in sorted(self.classes.items())
            },
        }
        return json.dumps(data, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BrokerModel:
        data = json.loads(text)
        return cls(
            library=data["library"],
            version=data["version"],
            aliases=data["aliases"],
            functions=data["functions"],
            classes={
                name: BrokerClass(tuple(k["bases"]), k["fields"], k["methods"])
                for name, k in data["classes"].items()
            },
        )


def installed_version(library: str) -> str | None:
    for dist in (library, library.replace("_", "-")):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(dist)
    return None


def committed_table(library: str) -> Path:
    return _HERE / f"broker_model_{library}.json"


def _user_cache(library: str, version: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ibguard" / f"broker-model-{library}-{version}.json"


@cache
def model(library: str) -> BrokerModel | None:
    """The model of `library`, or None when it is neither installed nor committed."""
    version = installed_version(library)
    table = committed_table(library)
    committed = BrokerModel.from_json(table.read_text()) if table.is_file() else None
    if version is None or (committed is not None and committed.version == version):
        return committed
    cached = _user_cache(library, version)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return BrokerModel.from_json(cached.read_text())
    found = read_library(library)
    if found is None:
        return committed
    with contextlib.suppress(OSError):  # an unwritable cache only costs the next run time
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(found.to_json())
    return found


@cache
def client_method_names(libraries: tuple[str, ...]) -> frozenset[str]:
    """Public method names of the libraries' client classes (`IB`, `Client`, `EClient`)."""
    names: set[str] = set()
    for library in libraries:
        found = model(library)
        if found is None:
            continue
        for qualname, klass in found.classes.items():
            if qualname.rsplit(".", 1)[-1] in CLIENT_CLASSES:
                names.update(m for m in klass.methods if not m.startswith("_"))
    return frozenset(names)


def read_library(library: str) -> BrokerModel | None:
    """Read the installed `library`'s source with `ast`, without importing it."""
    try:
        spec = importlib.util.find_spec(library)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    reader = _Reader(library)
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("").parts
        is_package = relative[-1] == "__init__"
        parts = relative[:-1] if is_package else relative
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, ValueError, OSError):
            continue
        reader.read_module(tree, ".".join((library, *parts)), is_package)
    return reader.finish(installed_version(library) or "unknown")


class _Reader:
    def __init__(self, library: str) -> None:
        self.library = library
        self.classes: dict[str, tuple[list[str], dict[str, str], dict[str, str]]] = {}
        self.functions: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        self._pending: list[tuple[dict[str, str], dict[str, ast.expr | None], str]] = []

    def read_module(self, tree: ast.Module, module: str, is_package: bool) -> None:
        names = self._imports(tree, module, is_package)
        for statement in tree.body:
            if isinstance(statement, ast.ClassDef):
                names[statement.name] = f"{module}.{statement.name}"
        for local, target in names.items():
            if target != f"{module}.{local}":
                self.aliases[f"{module}.{local}"] = target
        for statement in tree.body:
            if isinstance(statement, ast.ClassDef):
                self._class(statement, f"{module}.{statement.name}", names)
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[f"{module}.{statement.name}"] = _type(statement.returns, names)

    def _imports(self, tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
        names: dict[str, str] = {}
        for statement in ast.walk(tree):
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    local = alias.asname or alias.name.split(".", 1)[0]
                    names[local] = alias.name if alias.asname else local
            elif isinstance(statement, ast.ImportFrom):
                parts = module.split(".")
                if not is_package:
                    parts = parts[:-1]
                if statement.level > 1:
                    parts = parts[: len(parts) - (statement.level - 1)]
                base = statement.module or ""
                if statement.level:
                    base = ".".join([*parts, base] if base else parts)
                for alias in statement.names:
                    if alias.name != "*":
                        names[alias.asname or alias.name] = f"{base}.{alias.name}"
        return names

    def _class(self, node: ast.ClassDef, qualname: str, names: dict[str, str]) -> None:
        bases = [_qualify(_dotted(b), names) for b in node.bases if _dotted(b)]
        fields: dict[str, str] = {}
        methods: dict[str, str] = {}
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                fields[statement.target.id] = _type(statement.annotation, names)
            elif (  # `sleep = staticmethod(util.sleep)`: a method taken from a function
                isinstance(statement, ast.Assign)
                and isinstance(statement.value, ast.Call)
                and _dotted(statement.value.func) in ("staticmethod", "classmethod")
            ):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        methods[target.id] = ""
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                decorators = {_dotted(d).rsplit(".", 1)[-1] for d in statement.decorator_list}
                returned = _type(statement.returns, names)
                if "property" in decorators:
                    fields[statement.name] = returned
                else:
                    methods[statement.name] = returned
                self._self_fields(statement, fields, names)
        self.classes[qualname] = (bases, fields, methods)

    def _self_fields(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, fields: dict[str, str],
        names: dict[str, str],
    ) -> None:  # fmt: skip
        """`self.x: T = ...`, `self.x = Event(...)`, `self.x = Cls(...)`, `self.x = "..."`."""
        if not function.args.args:
            return
        me = function.args.args[0].arg
        for statement in ast.walk(function):
            target: ast.expr
            if isinstance(statement, ast.AnnAssign):
                target, value = statement.target, None
                kind = _type(statement.annotation, names)
            elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target, value, kind = statement.targets[0], statement.value, ""
            else:
                continue
            if not (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == me
            ):
                continue
            if not kind and isinstance(value, ast.Call) and _dotted(value.func):
                kind = "new:" + _qualify(_dotted(value.func), names)
            elif not kind and isinstance(value, (ast.Constant, ast.JoinedStr)):
                kind = PLAIN if value is not None and not _is_none(value) else ""
            if kind and not fields.get(target.attr):
                fields[target.attr] = kind

    def finish(self, version: str) -> BrokerModel:
        classes = {
            name: BrokerClass(tuple(bases), fields, methods)
            for name, (bases, fields, methods) in self.classes.items()
        }
        draft = BrokerModel(self.library, version, classes, self.functions, self.aliases)
        return BrokerModel(
            self.library,
            version,
            {
                name: BrokerClass(
                    klass.bases,
                    {n: _settle(t, draft) for n, t in klass.fields.items()},
                    {n: _settle(t, draft) for n, t in klass.methods.items()},
                )
                for name, klass in classes.items()
            },
            {n: _settle(t, draft) for n, t in self.functions.items()},
            self.aliases,
        )


def _settle(kind: str, draft: BrokerModel) -> str:
    """Turn qualified names into the model's types, once every class is known."""
    if kind.startswith(_LIST):
        inner = _settle(kind[len(_LIST) :], draft)
        return _LIST + inner if inner and inner != PLAIN else (PLAIN if inner else "")
    created = kind.startswith("new:")
    name = kind[len("new:") :] if created else kind
    if name in ("", PLAIN, EVENT):
        return name
    if name in _EVENT_CLASSES:
        return EVENT
    resolved = draft.resolve(name)
    if resolved in draft.classes:
        if any(draft.resolve(b) in _EVENT_CLASSES for b in draft.classes[resolved].bases):
            return EVENT
        return resolved
    if resolved in draft.functions:  # `self.x = make()`: what make returns
        return draft.functions[resolved] if created else ""
    if resolved.split(".", 1)[0] == draft.library:
        return ""  # a name of the library it does not define as a class: cannot tell
    return PLAIN


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def _qualify(dotted: str, names: Mapping[str, str]) -> str:
    head, _, rest = dotted.partition(".")
    if head in names:
        return f"{names[head]}.{rest}" if rest else names[head]
    return f"builtins.{dotted}"


def _type(node: ast.expr | None, names: Mapping[str, str]) -> str:
    """The unsettled type an annotation names ('' when it says nothing useful)."""
    if node is None or _is_none(node):
        return ""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _type(ast.parse(node.value, mode="eval").body, names)
        except SyntaxError:
            return ""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([node.left, node.right], names)
    if isinstance(node, ast.Subscript):
        outer = _dotted(node.value).rsplit(".", 1)[-1]
        inner = node.slice
        parts = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if outer in _WRAPPERS:
            return _union(parts[-1:] if outer == "Coroutine" else parts, names)
        if outer in _SEQUENCES:
            element = _type(parts[0], names) if parts else ""
            return _LIST + element if element else PLAIN
        return _type(node.value, names)
    dotted = _dotted(node)
    if not dotted or dotted == "Any":
        return ""
    return _qualify(dotted, names)


def _union(parts: list[ast.expr], names: Mapping[str, str]) -> str:
    found = [t for t in (_type(p, names) for p in parts) if t]
    return found[0] if len(found) == 1 else ("" if not found else found[0])


def write_tables(libraries: tuple[str, ...] = ("ib_async", "ib_insync", "ibapi")) -> list[Path]:
    """Regenerate the committed tables from the installed libraries."""
    written = []
    for library in libraries:
        found = read_library(library)
        if found is not None:
            committed_table(library).write_text(found.to_json())
            written.append(committed_table(library))
    return written


if __name__ == "__main__":  # python -m ibguard.rules.broker_model
    for path in write_tables():
        sys.stdout.write(f"wrote {path}\n")
