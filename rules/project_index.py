"""Project-wide facts every file's resolution needs: `ProjectIndex`.

Which libraries are the broker, which types are engine state or the engine's port, which
modules are connector code, the project's re-export tables (built by `reexports`), what its
functions return, what its classes hold and which classes they extend (built by
`return_types`; a type is a qualified name, or `call:Q` for "what calling Q gives"), and the
broker libraries' own models (`broker_model`, looked up per process). It is frozen and
picklable: the runner builds it once and hands it to every worker process. Qualified names
pass through the re-exports, so `app.connector.IB` is `ib_async.IB` when `app.connector`
re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ibguard.rules.broker_api import public_names
from ibguard.rules.broker_model import BrokerModel, model
from ibguard.rules.values import ENGINE_OBJECT

__all__ = ["ProjectIndex"]


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
    returns: Mapping[str, str] = field(default_factory=dict)  # see `return_types`
    # suffix -> the full keys of `returns` that end with it; filled on first use
    _suffixes: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

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

    def return_type(self, qualname: str) -> str | None:
        """The type the project function or method `qualname` returns (maybe `call:Q`)."""
        return self._fact(qualname, "")

    def attribute_type(self, class_name: str, name: str) -> str | None:
        """The type of attribute `name` declared or assigned on project class `class_name`."""
        return self._fact(f"{class_name}.{name}", "attr:")

    def argument_type(self, callee: str, position: int, keyword: str) -> str | None:
        """What a call somewhere in the project passes to `callee` at `position` (or as
        `keyword`): a type or `call:Q`."""
        found = self._fact(f"{callee}#{position}", "arg:") if position >= 0 else None
        return found or self._fact(f"{callee}#{keyword}", "arg:")

    def is_class(self, qualname: str) -> bool:
        """Is `qualname` a class the project defines (in any module)?"""
        return self._lookup(qualname, "class:") is not None

    def bases(self, class_name: str) -> tuple[str, ...]:
        """The base classes of project class `class_name`, qualified."""
        found = self._lookup(class_name, "bases:")
        return tuple(self.canonical(b) for b in found.split(",")) if found else ()

    def defines(self, method: str) -> bool:
        """Does any project class or module define a function named `method`? (Recorded
        for distinctive IB client method names only: see `return_types`.)"""
        return f"defines:{method}" in self.returns

    def broker_model(self, qualname: str) -> BrokerModel | None:
        """The model of the broker library `qualname` belongs to, if there is one."""
        library = qualname.split(".", 1)[0]
        return model(library) if library in self.broker_libraries else None

    def _lookup(self, qualname: str, prefix: str) -> str | None:
        """The fact about `qualname`; for a script-style import (`from connection import
        initiate` in `market/close.py` names `market.connection.initiate`) the one fact whose
        name ends with it."""
        found = self.returns.get(prefix + qualname) or self.returns.get(
            prefix + self.canonical(qualname)
        )
        if found is not None or "." not in qualname:
            return found
        if not self._suffixes:
            for key in self.returns:
                head, colon, name = key.rpartition(":")
                parts = name.split(".")
                for start in range(1, len(parts) - 1):
                    suffix = head + colon + ".".join(parts[start:])
                    self._suffixes.setdefault(suffix, []).append(key)
        keys = self._suffixes.get(prefix + qualname, [])
        return self.returns[keys[0]] if len(keys) == 1 else None

    def _fact(self, qualname: str, prefix: str) -> str | None:
        found = self._lookup(qualname, prefix)
        if found is None:
            return None
        if found.startswith("call:"):
            return "call:" + self.canonical(found[len("call:") :])
        return self.canonical(found)

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
