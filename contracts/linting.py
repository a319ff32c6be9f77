"""Running the project's import-linter contracts in-process, returning data (no printing).

Reads `[tool.importlinter]` (or an .importlinter/setup.cfg file) with import-linter's own
reader, builds the graph with grimp (cached under `.ibguard-cache/grimp`), checks each contract
and returns one `BrokenContract` per broken one, with one `Violation` per offending import
(`builtin_violations` reads them out of import-linter's own contract types). A configuration
import-linter rejects raises `ConfigError`. A deprecated form in the config warns
(`IbguardDeprecationWarning`) pointing at the config line that uses it.
"""

from __future__ import annotations

import copy
import importlib
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ibguard.contracts.builtin_violations import builtin_violations
from ibguard.contracts.deprecation import IbguardDeprecationWarning
from ibguard.contracts.violations import Violation
from ibguard.errors import ConfigError

__all__ = ["BrokenContract", "lint"]

_BUILT_IN = {
    "forbidden": "importlinter.contracts.forbidden.ForbiddenContract",
    "layers": "importlinter.contracts.layers.LayersContract",
    "independence": "importlinter.contracts.independence.IndependenceContract",
    "protected": "importlinter.contracts.protected.ProtectedContract",
    "acyclic_siblings": "importlinter.contracts.acyclic_siblings.AcyclicSiblingsContract",
}


@dataclass(frozen=True, slots=True)
class BrokenContract:
    contract_id: str  # CONTRACT-<ID>
    name: str
    violations: tuple[Violation, ...]
    guidance: str


def _class(dotted: str, config_file: Path) -> Any:
    """The contract class at `dotted`; a deprecation it raises points at the config line."""
    module, _, name = dotted.rpartition(".")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IbguardDeprecationWarning)
        found = getattr(importlib.import_module(module), name)
    for warning in caught:
        if issubclass(warning.category, IbguardDeprecationWarning):
            warnings.warn_explicit(
                warning.message,
                warning.category,
                _shown(config_file),
                _line_of(config_file, dotted),
            )
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return found


def _shown(path: Path) -> str:
    """`path` as the user would type it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def _line_of(config_file: Path, text: str) -> int:
    try:
        lines = config_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((n for n, line in enumerate(lines, 1) if text in line), 1)


def _contract_id(options: dict[str, Any]) -> str:
    raw = str(options.get("id") or options["name"])
    return "CONTRACT-" + re.sub(r"[^A-Z0-9]+", "-", raw.upper()).strip("-")


def lint(config_file: Path, root: Path) -> list[BrokenContract]:
    """Broken contracts of the import-linter configuration in `config_file`."""
    import grimp
    from importlinter.api import read_configuration
    from importlinter.domain.contract import InvalidContractOptions

    try:
        config = read_configuration(str(config_file))
    except FileNotFoundError:
        return []
    session = config["session_options"]
    types = dict(_BUILT_IN)
    for entry in session.get("contract_types", []):
        name, _, dotted = str(entry).partition(":")
        types[name.strip()] = dotted.strip()
    roots = session.get("root_packages") or [session.get("root_package")]
    added = [str(p) for p in (root, root / "src") if p.is_dir() and str(p) not in sys.path]
    sys.path[:0] = added
    try:
        graph = grimp.build_graph(
            *[str(r) for r in roots if r],
            include_external_packages=str(session.get("include_external_packages", "")).lower()
            == "true",
            cache_dir=str(root / ".ibguard-cache" / "grimp"),
        )
    except Exception as error:  # grimp raises several types for an unimportable root
        raise ConfigError(
            [f"import-linter cannot build the import graph ({error}); check root_packages"],
            str(config_file),
        ) from None
    finally:
        for path in added:
            sys.path.remove(path)
    broken = []
    for options in config["contracts_options"]:
        contract_type = str(options.get("type", ""))
        if contract_type not in types:
            raise ConfigError(
                [f"contract {options.get('name')!r} has unknown type {contract_type!r}"],
                str(config_file),
            )
        try:
            contract = _class(types[contract_type], config_file)(
                name=options["name"], session_options=session, contract_options=options
            )
        except InvalidContractOptions as error:
            raise ConfigError(
                [f"contract {options.get('name')!r}: {k}: {v}" for k, v in error.errors.items()],
                str(config_file),
            ) from None
        check = contract.check(copy.deepcopy(graph), verbose=False)  # contracts may mutate it
        if check.kept:
            continue
        violations = tuple(check.metadata.get("violations", ())) or builtin_violations(check, graph)
        guidance = " ".join(
            str(
                check.metadata.get("guidance")
                or options.get("broken_contract_guidance")
                or "run lint-imports for the import chains, then remove or invert those imports."
            ).split()
        )
        undeclared = sorted(check.metadata.get("undeclared_modules") or ())
        if undeclared:  # an exhaustive layers contract
            guidance = f"not listed as layers: {', '.join(undeclared)}; {guidance}"
        broken.append(
            BrokenContract(_contract_id(options), str(options["name"]), violations, guidance)
        )
    return broken
