"""Deprecated path of the `ibguard_connector_internals` contract type.

Register `ibguard.contracts.ConnectorInternalsContract` instead.
Configs written by `ibguard init` 0.1 name this module; reading the class from here still
works and warns (`IbguardDeprecationWarning`) with the new path.
"""

from __future__ import annotations

from ibguard.contracts.deprecation import moved_contract_type

__all__: list[str] = []  # the class is reached through __getattr__ only, with a warning


def __getattr__(name: str) -> object:
    return moved_contract_type(__name__, name)
