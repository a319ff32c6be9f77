"""Contract type `ibguard_engine_isolation`: engine modules do not import what they must not.

Options: `engine` (modules, with descendants), `exclude` (descendants of `engine` that are not
engine core, e.g. its connector and shell), `forbidden` (modules, internal or external, with
descendants: the shell, the kit, I/O libraries), `guidance` (optional fix-it text). Direct
imports only, reported with their line.

Why not import-linter's own `forbidden` type: the engine core is a package minus some of its
own subpackages (the connector and the shell usually live under it), and `forbidden` cannot
leave descendants of a source module out. Where the engine has nothing to leave out,
`forbidden` with `allow_indirect_imports = true` says the same thing.
"""

from __future__ import annotations

import grimp
from ibguard.contracts.options import string_list, string_option
from ibguard.contracts.violations import Violation, direct_imports, render_violations
from importlinter import Contract, ContractCheck, fields

__all__ = ["EngineIsolationContract"]

GUIDANCE = (
    "keep the engine core sans-IO: take what it needs as events or through a port "
    "(engine/ports.py) and let the shell or the connector do the I/O."
)


def _within(module: str, roots: list[str]) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


class EngineIsolationContract(Contract):
    """Modules under `engine` (minus `exclude`) must not directly import `forbidden` ones."""

    type_name = "ibguard_engine_isolation"
    engine = fields.ListField(subfield=fields.StringField())
    exclude = fields.ListField(subfield=fields.StringField(), required=False, default=[])
    forbidden = fields.ListField(subfield=fields.StringField())
    guidance = fields.StringField(required=False, default=GUIDANCE)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        engine = string_list(self, "engine")
        exclude = string_list(self, "exclude")
        forbidden = string_list(self, "forbidden")
        found: list[Violation] = []
        for importer in sorted(graph.modules):
            if not _within(importer, engine) or _within(importer, exclude):
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if _within(imported, forbidden):
                    found.extend(direct_imports(graph, importer, imported))
        guidance = string_option(self, "guidance")
        return ContractCheck(kept=not found, metadata={"violations": found, "guidance": guidance})

    def render_broken_contract(self, check: ContractCheck) -> None:
        render_violations(check.metadata["violations"], check.metadata["guidance"])
