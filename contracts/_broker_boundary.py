"""Contract type `ibguard_broker_boundary`: only the connector imports the broker library.

Options: `connector` (modules; they and their descendants may import the broker), and
`broker_libraries` (default ib_async, ib_insync, ibapi). Direct imports only: the engine may
import the connector, which imports the broker, and that chain is the design.
Needs `include_external_packages = True` so the libraries are nodes of the graph.

Why not import-linter's own `protected` type, which this delegates the check to: `protected`
refuses a contract whose protected module is not in the import graph ("not present in the
graph"), and a library is in the graph only once something imports it. A team's config names
all three libraries while it imports one, and ibguard's own connector loads its library with
`importlib`, so none is in the graph. This type protects the libraries that are present and
treats an absent one as kept.
"""

from __future__ import annotations

import grimp
from ibguard.contracts.options import string_list
from ibguard.contracts.violations import Violation, render_violations
from importlinter import Contract, ContractCheck, fields
from importlinter.contracts.protected import ProtectedContract

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
        present = [lib for lib in string_list(self, "broker_libraries") if lib in graph.modules]
        found: list[Violation] = []
        if present:
            protected = ProtectedContract(
                name=self.name,
                session_options=self.session_options,
                contract_options={
                    "protected_modules": present,
                    "allowed_importers": string_list(self, "connector"),
                },
            )
            check = protected.check(graph, verbose)
            found = [
                Violation(link["importer"], link["imported"], line or 1, "")
                for broken in check.metadata["illegal_imports"]
                for link in broken.illegal_links
                for line in link["line_numbers"] or (1,)
            ]
        found = [_with_contents(graph, v) for v in found]
        return ContractCheck(kept=not found, metadata={"violations": found, "guidance": GUIDANCE})

    def render_broken_contract(self, check: ContractCheck) -> None:
        render_violations(check.metadata["violations"], check.metadata["guidance"])


def _with_contents(graph: grimp.ImportGraph, violation: Violation) -> Violation:
    """The import's source line, which `protected` does not keep."""
    for detail in graph.get_import_details(
        importer=violation.importer, imported=violation.imported
    ):
        if detail["line_number"] == violation.line_number:
            return Violation(
                violation.importer,
                violation.imported,
                violation.line_number,
                str(detail["line_contents"]),
            )
    return violation
