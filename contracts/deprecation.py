"""Deprecations of what teams' configs say: one warning category, and the moved type paths.

`IbguardDeprecationWarning` is a `FutureWarning`, so Python shows it by default: it is meant
for the people who own a config, not for ibguard's developers. Each message names the new
form to write. `ibguard check` re-points each warning at the config line that causes it.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Final

__all__ = ["MOVED_CONTRACT_TYPES", "IbguardDeprecationWarning", "moved_contract_type"]


class IbguardDeprecationWarning(FutureWarning):
    """Something in a config still works but has a new form; the message names it."""


# old dotted path -> new dotted path of each contract type a config registers
MOVED_CONTRACT_TYPES: Final = {
    f"ibguard.contracts.{module}.{name}": f"ibguard.contracts.{name}"
    for module, name in (
        ("broker_boundary", "BrokerBoundaryContract"),
        ("engine_isolation", "EngineIsolationContract"),
        ("connector_internals", "ConnectorInternalsContract"),
    )
}


def moved_contract_type(module: str, name: str) -> object:
    """The class `name` of the old module `module`, with a warning naming its new path."""
    old = f"{module}.{name}"
    new = MOVED_CONTRACT_TYPES.get(old)
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(
        f"contract type path {old} is deprecated; register it as {new} in "
        "[tool.importlinter] contract_types (ibguard init writes the new form)",
        IbguardDeprecationWarning,
        stacklevel=3,
    )
    private = module.rpartition(".")[0] + "._" + module.rpartition(".")[2]
    return getattr(importlib.import_module(private), name)
