"""Contract type `ibguard_broker_boundary`: only the connector imports the broker library.

Options: `connector` (modules; they and their descendants may import the broker), and
`broker_libraries` (default ib_async, ib_insync, ibapi). Direct imports only: the engine may
import the connector, which imports the broker, and that chain is the design.
Needs `include_external_packages = True` so the libraries are nodes of the graph.
"""

from __future__ import annotations

import grimp
from ibguard.contracts.options import string_list
from ibguard.contracts.violations import Violation, direct_imports, render_violations
from importlinter import Contract, ContractCheck, fields

__all__ = ["BrokerBoundaryContract"]

GUIDANCE = (
    "move the broker call into the connector and reach it through the connector's port "
    "(send an engine command, or add a method to the port); only the connector may import "
    "the broker library."
)


class BrokerBoundaryContract(Contract):
    """Only `connector` modules may directly import the broker libraries."""

    type_name = "ibguard_broker_boundary"
    connector = fields.ListField(subfield=fields.StringField())
    broker_libraries = fields.ListField(
        subfield=fields.StringField(), required=False, default=["ib_async", "ib_insync", "ibapi"]
    )

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        connector = string_list(self, "connector")
        found: list[Violation] = []
        for library in string_list(self, "broker_libraries"):
            if library not in graph.modules:
                continue
            for importer in sorted(graph.find_modules_that_directly_import(str(library))):
                if any(importer == c or importer.startswith(c + ".") for c in connector):
                    continue
                found.extend(direct_imports(graph, importer, str(library)))
        return ContractCheck(kept=not found, metadata={"violations": found, "guidance": GUIDANCE})

    def render_broken_contract(self, check: ContractCheck) -> None:
        render_violations(check.metadata["violations"], check.metadata["guidance"])
