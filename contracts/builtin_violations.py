"""`Violation`s read out of the checks of import-linter's own contract types.

Each built-in type keeps what broke it in its own metadata shape: `protected` and
`private_modules` keep illegal links, `forbidden` and `layers` keep chains (reported here by
their first import, the one to remove or invert), `acyclic_siblings` keeps the imports whose
removal would break each cycle. This module is the one place that knows those shapes, so
`ibguard check` reports every broken contract at the importing line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import grimp
from ibguard.contracts.violations import Violation, direct_imports
from importlinter import ContractCheck

__all__ = ["builtin_violations"]


def _links(metadata: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for broken in metadata.get("illegal_imports", ()):  # protected, private_modules
        links = getattr(broken, "illegal_links", None)
        for link in links if links is not None else [broken]:
            yield link["importer"], link["imported"]
    for chains in metadata.get("invalid_chains", ()):  # forbidden: chains of links
        for chain in chains.get("chains", ()):
            yield chain[0]["importer"], chain[0]["imported"]
    for dependency in metadata.get("invalid_dependencies", ()):  # layers
        for route in dependency.get("routes", ()):
            first = route["chain"][0]
            yield first["importer"], first["imported"]
    for breakers in metadata.get("cycle_breakers_by_package", {}).values():  # acyclic_siblings
        yield from sorted(breakers)


def builtin_violations(check: ContractCheck, graph: grimp.ImportGraph) -> tuple[Violation, ...]:
    """One violation per direct import that broke a built-in contract, with its line."""
    found: list[Violation] = []
    for importer, imported in dict.fromkeys(_links(check.metadata)):
        found.extend(direct_imports(graph, importer, imported))
    return tuple(found)
