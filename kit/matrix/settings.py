"""`[tool.ibguard]` as far as the matrix reads it: frozen settings, every bad key at once.

Owned keys: `matrix` (bool: run the matrix in this project's pytest), `subject` ("module:
factory", default the reference engine), `driver` ("wire", the default, or "inprocess"),
`capabilities` (list: replaces what the subject declares), `[tool.ibguard.xfail]`
("CASE-ID" = "reason", strict) and `[tool.ibguard.coverage]` ("package" = minimum
line+branch percent). Other keys belong to `ibguard check` and are ignored here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ibguard.errors import ConfigError
from ibguard.kit.matrix.catalog import CASES
from ibguard.kit.matrix.drivers import DEFAULT_DRIVER, DRIVERS
from ibguard.kit.matrix.subject import ALL_CAPABILITIES, Subject

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

__all__ = ["DEFAULT_SUBJECT", "MatrixSettings", "load_matrix_settings", "load_subject_factory"]

DEFAULT_SUBJECT: Final = "ibguard.kit.matrix.reference:make_subject"


@dataclass(frozen=True, slots=True, kw_only=True)
class MatrixSettings:
    matrix: bool = False
    subject: str = DEFAULT_SUBJECT
    subject_set: bool = False
    driver: str = DEFAULT_DRIVER
    capabilities: frozenset[str] | None = None
    xfail: Mapping[str, str] = field(default_factory=dict)
    coverage: Mapping[str, float] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        """The matrix runs in this project's pytest (opt-in: `matrix = true` or `subject`)."""
        return self.matrix or self.subject_set


def load_matrix_settings(config_file: Path | None) -> MatrixSettings:
    if config_file is None or not config_file.is_file():
        return MatrixSettings()
    try:
        with config_file.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError([f"cannot read it ({error})"], str(config_file)) from None
    table = data.get("tool", {}).get("ibguard")
    if not isinstance(table, dict):
        return MatrixSettings()
    return _parse(table, str(config_file))


def _parse(table: dict[str, Any], source: str) -> MatrixSettings:
    errors: list[str] = []
    values: dict[str, Any] = {}
    known = {c.id for c in CASES}
    if "matrix" in table:
        if isinstance(table["matrix"], bool):
            values["matrix"] = table["matrix"]
        else:
            errors.append("matrix must be true or false")
    if "subject" in table:
        spec = table["subject"]
        if isinstance(spec, str) and spec.count(":") == 1 and all(spec.split(":")):
            values["subject"] = spec
            values["subject_set"] = True
        else:
            errors.append("subject must be 'module:factory', e.g. 'myteam.matrix:make_subject'")
    if "driver" in table:
        if table["driver"] in DRIVERS:
            values["driver"] = table["driver"]
        else:
            errors.append(f"driver must be one of {', '.join(DRIVERS)}")
    if "capabilities" in table:
        caps = table["capabilities"]
        if not isinstance(caps, list) or not all(c in ALL_CAPABILITIES for c in caps):
            errors.append(f"capabilities must list names from {sorted(ALL_CAPABILITIES)}")
        else:
            values["capabilities"] = frozenset(caps)
    xfail = table.get("xfail", {})
    if not isinstance(xfail, dict):
        errors.append('xfail must be a table of "CASE-ID" = "reason"')
    else:
        for case_id, reason in xfail.items():
            if case_id not in known:
                errors.append(f"xfail: unknown case id {case_id!r}")
            elif not isinstance(reason, str) or not reason.strip():
                errors.append(f"xfail: {case_id} needs a reason (a non-empty string)")
        values["xfail"] = dict(xfail) if isinstance(xfail, dict) else {}
    coverage = table.get("coverage", {})
    if not isinstance(coverage, dict):
        errors.append('coverage must be a table of "package" = minimum percent')
    else:
        for package, minimum in coverage.items():
            ok = isinstance(minimum, int | float) and not isinstance(minimum, bool)
            if not ok or not 0 <= minimum <= 100:
                errors.append(f"coverage: {package} needs a percentage 0..100")
        values["coverage"] = {k: float(v) for k, v in coverage.items() if not errors}
    if errors:
        raise ConfigError(errors, f"{source} [tool.ibguard]")
    return MatrixSettings(**values)


def load_subject_factory(spec: str, root: Path | None = None) -> Callable[[], Subject]:
    """The factory named by 'module:factory' (ConfigError says what is wrong).

    `root` (the folder of the config naming the subject) is importable first, so a team's
    `ibguard_subject.py` next to its pyproject.toml loads under a bare `pytest` too.
    """
    module_name, _, attribute = spec.partition(":")
    if root is not None and str(root.resolve()) not in sys.path:
        sys.path.insert(0, str(root.resolve()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError([f"cannot import {module_name} ({error})"], f"subject {spec}") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ConfigError([f"{module_name} has no callable {attribute}"], f"subject {spec}")
    return factory  # type: ignore[no-any-return]  # the spec names a Subject factory
