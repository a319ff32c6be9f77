"""ibguard.contracts: import-linter contract types for the broker boundary, and their tools.

A config registers the types by these paths, e.g.
`"ibguard_broker_boundary: ibguard.contracts.BrokerBoundaryContract"`. They are imported on
first use, so importing this package does not import import-linter.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibguard.contracts._broker_boundary import BrokerBoundaryContract
    from ibguard.contracts._connector_internals import ConnectorInternalsContract
    from ibguard.contracts._engine_isolation import EngineIsolationContract

__all__ = ["BrokerBoundaryContract", "ConnectorInternalsContract", "EngineIsolationContract"]

_HOMES = {
    "BrokerBoundaryContract": "ibguard.contracts._broker_boundary",
    "ConnectorInternalsContract": "ibguard.contracts._connector_internals",
    "EngineIsolationContract": "ibguard.contracts._engine_isolation",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
