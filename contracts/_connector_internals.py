"""Contract type `ibguard_connector_internals`: the engine imports only the connector's port.

Options: `engine` (modules), `connector` (the connector package), `public` (connector modules
the engine may import; default: none, so the engine reaches the connector only through the
port it is handed), `exclude` (descendants of `engine` that are not engine, e.g. the shell
that wires the connector up). Any other connector module, and any module with a `_private`
part, is internal.

Why not import-linter's own types: `protected` restricts every importer of the connector, but
this restricts only the engine's (the application's wiring may import the connector freely)
and allows a list of public modules; `forbidden` cannot leave the connector and the shell out
of the engine package that contains them; `private_modules` covers the `_private` part only.
"""

from __future__ import annotations

import grimp
from ibguard.contracts.options import string_list, string_option
from ibguard.contracts.violations import Violation, direct_imports, render_violations
from importlinter import Contract, ContractCheck, fields

__all__ = ["ConnectorInternalsContract"]

GUIDANCE = (
    "import only the connector's public module (or take the port as a constructor argument); "
    "if the engine needs something from the connector, add it to the port."
)


class ConnectorInternalsContract(Contract):
    """`engine` modules must not directly import connector modules other than `public`."""

    type_name = "ibguard_connector_internals"
    engine = fields.ListField(subfield=fields.StringField())
    connector = fields.StringField()
    public = fields.ListField(subfield=fields.StringField(), required=False, default=[])
    exclude = fields.ListField(subfield=fields.StringField(), required=False, default=[])

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        engine = string_list(self, "engine")
        connector = string_option(self, "connector")
        public = set(string_list(self, "public"))
        outside = [connector, *string_list(self, "exclude")]
        found: list[Violation] = []
        for importer in sorted(graph.modules):
            in_engine = any(importer == e or importer.startswith(e + ".") for e in engine)
            if not in_engine or any(importer == o or importer.startswith(o + ".") for o in outside):
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                inside = imported == connector or imported.startswith(connector + ".")
                private = any(
                    p.startswith("_") and not p.startswith("__") for p in imported.split(".")
                )
                if inside and (imported not in public or private):
                    found.extend(direct_imports(graph, importer, imported))
        return ContractCheck(kept=not found, metadata={"violations": found, "guidance": GUIDANCE})

    def render_broken_contract(self, check: ContractCheck) -> None:
        render_violations(check.metadata["violations"], check.metadata["guidance"])
