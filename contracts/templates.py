"""Config templates `ibguard init` writes into a repo: the contracts and the rule settings.

`importlinter_template` returns a `[tool.importlinter]` TOML section using ibguard's contract
types; `ibguard_template` returns the matching `[tool.ibguard]` table. Both are plain text so
the caller decides where they go (pyproject.toml or a separate file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["ibguard_template", "importlinter_template"]

_BROKERS = ("ib_async", "ib_insync", "ibapi")


def _list(items: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def _commented_list(items: Mapping[str, str]) -> str:
    """A TOML array one item a line, each with its comment (why it is there)."""
    if not any(items.values()):
        return _list(list(items))
    lines = [f'    "{item}",' + (f"  # {why}" if why else "") for item, why in items.items()]
    return "[\n" + "\n".join(lines) + "\n]"


def importlinter_template(
    root_package: str,
    *,
    engine: str,
    connector: str,
    shell: str | None = None,
    public: Sequence[str] = (),
    broker_libraries: Sequence[str] = _BROKERS,
    exclude: Mapping[str, str] | Sequence[str] = (),
) -> str:
    """Contracts: only `connector` imports the broker; the engine imports no connector internals,
    no shell and no I/O module. Module names are dotted (`app.engine`, `app.engine.connector`).
    `exclude`: modules under `engine` (with descendants) that are not engine core, e.g. an
    asyncio entry point; a mapping gives each a comment (why it is left out) for review."""
    notes = dict(exclude) if isinstance(exclude, Mapping) else dict.fromkeys(exclude, "")
    if shell:
        notes = {shell: "", **notes}
    excluded = {connector: "the connector" if notes and any(notes.values()) else "", **notes}
    forbidden = [*([shell] if shell else []), "asyncio", "socket", "threading", "time"]
    return f"""[tool.importlinter]
root_packages = ["{root_package}"]
include_external_packages = true
contract_types = [
    "ibguard_broker_boundary: ibguard.contracts.BrokerBoundaryContract",
    "ibguard_engine_isolation: ibguard.contracts.EngineIsolationContract",
    "ibguard_connector_internals: ibguard.contracts.ConnectorInternalsContract",
]

[[tool.importlinter.contracts]]
id = "broker-boundary"
name = "Only the connector imports the broker library"
type = "ibguard_broker_boundary"
connector = ["{connector}"]
broker_libraries = {_list(broker_libraries)}

[[tool.importlinter.contracts]]
id = "connector-internals"
name = "The engine imports no connector internals"
type = "ibguard_connector_internals"
engine = ["{engine}"]
connector = "{connector}"
public = {_list(public)}
{f"exclude = {_commented_list(notes)}{chr(10)}" if notes else ""}
[[tool.importlinter.contracts]]
id = "engine-isolation"
name = "The engine core does no I/O"
type = "ibguard_engine_isolation"
engine = ["{engine}"]
exclude = {_commented_list(excluded)}
forbidden = {_list(forbidden)}
"""


def ibguard_template(
    engine_globs: Sequence[str], connector_globs: Sequence[str], exclude: Sequence[str] = ()
) -> str:
    """The `[tool.ibguard]` table for `ibguard check` (globs relative to the file's folder);
    `exclude` globs are never checked (e.g. folders of scripts)."""
    excluded = f"exclude = {_list(exclude)}\n" if exclude else ""
    return f"""[tool.ibguard]
engine = {_list(engine_globs)}
connector = {_list(connector_globs)}
{excluded}broker-libraries = {_list(_BROKERS)}
state-types = []  # dotted names of the engine's state classes
port-types = []  # dotted names of the port classes the connector implements
"""
