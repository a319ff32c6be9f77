"""`[tool.ibguard]` as far as the matrix reads it: frozen settings, every bad key at once.

The table is validated by the one schema (`ibguard.rules.settings.ibguard_table`: unknown
keys and wrong types are errors there); this module adds what needs the catalog and the
kit: known case ids, driver and capability names. Keys: `matrix` (bool: run the matrix in
this project's pytest), `subject` ("module:factory", default the reference engine),
`driver` ("wire", the default, or "inprocess"), `capabilities` (list: replaces what the
subject declares), `cases` (the case set the gate runs: a set name such as "seed-30" or a
list of case ids; default every case), `case-timeout` (seconds one case may take),
`[tool.ibguard.xfail]` ("CASE-ID" = "reason", strict) and `[tool.ibguard.coverage]`
("package" = minimum line+branch percent).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ibguard.errors import ConfigError
from ibguard.kit.matrix.catalog import CASE_SETS, CASES, DEFAULT_CASE_SET, variant_ids
from ibguard.kit.matrix.drivers import DEFAULT_DRIVER, DRIVERS
from ibguard.kit.matrix.subject import ALL_CAPABILITIES, HEALTH_HTTP, LOG_RECORDS, Subject
from ibguard.rules.settings import ibguard_table, read_config

__all__ = [
    "DEFAULT_CASE_TIMEOUT",
    "DEFAULT_SUBJECT",
    "MatrixSettings",
    "load_matrix_settings",
    "load_subject_factory",
]

DEFAULT_SUBJECT: Final = "ibguard.kit.matrix.reference:make_subject"
DEFAULT_CASE_TIMEOUT: Final = 120.0
"""Seconds one case may take before the plugin reports the subject method it hangs in."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MatrixSettings:
    matrix: bool = False
    subject: str = DEFAULT_SUBJECT
    subject_set: bool = False
    driver: str = DEFAULT_DRIVER
    capabilities: frozenset[str] | None = None
    cases: tuple[str, ...] = CASE_SETS[DEFAULT_CASE_SET]
    case_timeout: float = DEFAULT_CASE_TIMEOUT
    xfail: Mapping[str, str] = field(default_factory=dict)
    coverage: Mapping[str, float] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        """The matrix runs in this project's pytest (opt-in: `matrix = true` or `subject`)."""
        return self.matrix or self.subject_set


def load_matrix_settings(config_file: Path | None) -> MatrixSettings:
    if config_file is None or not config_file.is_file():
        return MatrixSettings()
    table = ibguard_table(read_config(config_file), config_file)
    if table is None:
        return MatrixSettings()
    return _parse(table, f"{config_file} [tool.ibguard]")


def _cases(value: object, errors: list[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        if value not in CASE_SETS:
            errors.append(f"cases: unknown case set {value!r}; use one of {', '.join(CASE_SETS)}")
            return ()
        return CASE_SETS[value]
    known = {c.id for c in CASES}
    ids = [str(v) for v in value] if isinstance(value, list) else []
    unknown = [i for i in ids if i not in known]
    if unknown:
        errors.append(f"cases: unknown case id(s) {', '.join(map(repr, unknown))}")
    return tuple(c.id for c in CASES if c.id in ids)


def _parse(table: Mapping[str, Any], source: str) -> MatrixSettings:
    errors: list[str] = []
    values: dict[str, Any] = {}
    known = {c.id for c in CASES}
    if "matrix" in table:
        values["matrix"] = table["matrix"]
    if "subject" in table:
        spec = table["subject"]
        if spec.count(":") == 1 and all(spec.split(":")):
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
        names = ALL_CAPABILITIES | {LOG_RECORDS, HEALTH_HTTP}
        unknown = [c for c in table["capabilities"] if c not in names]
        if unknown:
            errors.append(
                f"capabilities: unknown {', '.join(map(repr, unknown))}; "
                f"use names from {sorted(names)}"
            )
        else:
            values["capabilities"] = frozenset(table["capabilities"])
    if "cases" in table:
        values["cases"] = _cases(table["cases"], errors)
    if "case-timeout" in table:
        values["case_timeout"] = float(table["case-timeout"])
    xfail = table.get("xfail", {})
    test_ids = known | set(variant_ids())  # a case, or one variant of it: "LIFE-05[live]"
    for case_id in xfail:
        if case_id not in test_ids:
            errors.append(f"xfail: unknown case id {case_id!r}")
    values["xfail"] = dict(xfail)
    values["coverage"] = {k: float(v) for k, v in table.get("coverage", {}).items()}
    if errors:
        raise ConfigError(errors, source)
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
