"""Which broker library the connector drives: ib_async by default, ib_insync as fallback.

Both expose the same names (`IB`, `Contract`, `Order`, `ExecutionFilter`) and the same
client/decoder/wrapper structure, so the connector is written once against those names.
The library is imported lazily, here, so that importing `ibguard.engine.connector` never
needs either one installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ibguard.engine.errors import UsageError

__all__ = ["DEFAULT_LIBRARIES", "BrokerLibrary", "load_library"]

DEFAULT_LIBRARIES = ("ib_async", "ib_insync")


@dataclass(frozen=True, slots=True)
class BrokerLibrary:
    name: str
    ib: Callable[[], Any]
    contract: Callable[..., Any]
    order: Callable[..., Any]
    execution_filter: Callable[..., Any]


def load_library(choice: object = None) -> BrokerLibrary:
    """`choice`: None (ib_async, else ib_insync), a library module, or its `IB` class
    (then the value types come from the package the class belongs to)."""
    if choice is None:
        module = _first_installed()
        ib = module.IB
    elif isinstance(choice, ModuleType):
        module, ib = choice, getattr(choice, "IB", None)
    elif isinstance(choice, type):
        module = importlib.import_module(choice.__module__.partition(".")[0])
        ib = choice
    else:
        raise UsageError(f"library must be a module or an IB class, got {choice!r}")
    try:
        return BrokerLibrary(
            name=module.__name__,
            ib=_callable(ib, "IB"),
            contract=_callable(getattr(module, "Contract", None), "Contract"),
            order=_callable(getattr(module, "Order", None), "Order"),
            execution_filter=_callable(getattr(module, "ExecutionFilter", None), "ExecutionFilter"),
        )
    except UsageError as exc:
        raise UsageError(f"{module.__name__} is not an IB client library: {exc}") from None


def _first_installed() -> ModuleType:
    for name in DEFAULT_LIBRARIES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise UsageError("no broker library installed: pip install ib_async (or ib_insync)")


def _callable(value: object, name: str) -> Callable[..., Any]:
    if not callable(value):
        raise UsageError(f"it has no {name}")
    return value
