"""Project-wide facts every file's resolution needs: `ProjectIndex`.

Which libraries are the broker, which types are engine state or the engine's port, which
modules are connector code, the project's re-export tables (built by `reexports`) and what
its annotated functions and methods return (built by `return_types`). It is frozen and
picklable: the runner builds it once and hands it to every worker process. Qualified names
pass through the re-exports, so `app.connector.IB` is `ib_async.IB` when `app.connector`
re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ibguard.rules.broker_api import public_names
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
    returns: Mapping[str, str] = field(default_factory=dict)  # function -> annotated type

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
        """The type the project function or method `qualname` is annotated to return."""
        found = self.returns.get(qualname) or self.returns.get(self.canonical(qualname))
        return self.canonical(found) if found is not None else None

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
