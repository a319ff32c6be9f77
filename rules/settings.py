"""`[tool.ibguard]`: the one schema every reader shares, and the settings `ibguard check` reads.

Owns reading a pyproject.toml (`read_config`: every failure to read it is one ConfigError
line, never a traceback) and validating the whole `[tool.ibguard]` table against `SCHEMA`
(`ibguard_table`): an unknown key (or sub-table, e.g. a misspelt `[tool.ibguard.coverag]`)
or a value of the wrong type is an error naming the key, so no reader can silently ignore
what another reader would have used. `ibguard check`, the pytest plugin and `ibguard matrix`
all go through `ibguard_table`; each then reads the keys it owns (check: `Settings` here;
the matrix: `ibguard.kit.matrix.settings`, which adds the checks that need the catalog).

Check's keys: engine, connector, exclude (lists of path globs, `**` allowed, relative to the
config file's folder), broker-libraries, state-types, port-types (lists of names), cache and
contracts (booleans). Module names of files follow `[tool.setuptools.package-dir]`.
"""

from __future__ import annotations

import difflib
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ibguard.errors import ConfigError
from ibguard.rules.broker_api import DEFAULT_BROKER_LIBRARIES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "MAX_CASE_TIMEOUT",
    "SCHEMA",
    "Settings",
    "find_config",
    "ibguard_table",
    "load_settings",
    "nearest_config",
    "read_config",
]

MAX_CASE_TIMEOUT: Final = 3600.0  # seconds; a per-case timeout beyond an hour is a typo

# A checker returns None when the value fits, else what the key must be (one phrase).
Checker = Callable[[object], "str | None"]


def _string_list(value: object) -> str | None:
    ok = isinstance(value, list) and all(isinstance(item, str) and item for item in value)
    return None if ok else "a list of non-empty strings"


def _boolean(value: object) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _string(value: object) -> str | None:
    return None if isinstance(value, str) and value.strip() else "a non-empty string"


def _case_set(value: object) -> str | None:
    if (isinstance(value, str) and value.strip()) or _string_list(value) is None:
        return None
    return 'a case set name (e.g. "seed-30") or a list of case ids'


def _names(value: object) -> str | None:
    return None if isinstance(value, list) and _string_list(value) is None else "a list of names"


def _number(value: object) -> float | None:
    """`value` as a finite float when it is a TOML number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer with hundreds of digits
        return None
    return number if math.isfinite(number) else None


def _timeout(value: object) -> str | None:
    number = _number(value)
    if number is not None and 0 < number <= MAX_CASE_TIMEOUT:
        return None
    return f"a number of seconds above 0 and at most {MAX_CASE_TIMEOUT:g}"


def _reasons(value: object) -> str | None:
    ok = isinstance(value, dict) and all(
        isinstance(reason, str) and reason.strip() for reason in value.values()
    )
    return None if ok else 'a table of "CASE-ID" = "reason" (non-empty strings)'


def _percentages(value: object) -> str | None:
    ok = isinstance(value, dict) and all(
        (number := _number(v)) is not None and 0 <= number <= 100 for v in value.values()
    )
    return None if ok else 'a table of "package" = minimum percent (0..100)'


SCHEMA: Final[Mapping[str, Checker]] = {
    # ibguard check
    "engine": _string_list,
    "connector": _string_list,
    "exclude": _string_list,
    "broker-libraries": _string_list,
    "state-types": _string_list,
    "port-types": _string_list,
    "cache": _boolean,
    "contracts": _boolean,
    # the matrix (pytest plugin and `ibguard matrix`) and the coverage gate
    "matrix": _boolean,
    "subject": _string,
    "driver": _string,
    "capabilities": _names,
    "cases": _case_set,
    "case-timeout": _timeout,
    "xfail": _reasons,
    "coverage": _percentages,
}
"""Every key `[tool.ibguard]` may hold, with the check of its type."""

_LIST_KEYS: Final = (
    "engine",
    "connector",
    "exclude",
    "broker-libraries",
    "state-types",
    "port-types",
)
_BOOL_KEYS: Final = ("cache", "contracts")


@dataclass(frozen=True, slots=True)
class Settings:
    """What `ibguard check` was told. `root` is the folder the globs are relative to."""

    root: Path
    config_file: Path
    engine: tuple[str, ...] = ()
    connector: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    broker_libraries: tuple[str, ...] = DEFAULT_BROKER_LIBRARIES
    state_types: tuple[str, ...] = ()
    port_types: tuple[str, ...] = ()
    cache: bool = True
    contracts: bool = True
    package_dirs: Mapping[str, str] = field(default_factory=dict)  # folder -> module prefix
    has_importlinter: bool = False

    def fingerprint(self) -> str:
        """Everything that changes what a rule reports, as one string (for the cache key)."""
        return repr(
            (
                self.engine,
                self.connector,
                self.exclude,
                self.broker_libraries,
                self.state_types,
                self.port_types,
                sorted(self.package_dirs.items()),
            )
        )


def nearest_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.ibguard] table, from `start` upwards."""
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "ibguard" in _tool(read_config(candidate), candidate):
            return candidate
    return None


def find_config(start: Path) -> Path:
    """The nearest pyproject.toml with a [tool.ibguard] table (ConfigError when none)."""
    found = nearest_config(start)
    if found is not None:
        return found
    raise ConfigError(
        [
            "no pyproject.toml with a [tool.ibguard] table here or above; "
            "add one or pass --config FILE"
        ]
    )


def read_config(path: Path) -> dict[str, Any]:
    """The TOML document at `path` (ConfigError says in one line why it cannot be read)."""
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except OSError as error:
        raise ConfigError(
            [f"cannot read it ({error.strerror or error}); check the path"], str(path)
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(["not UTF-8 text; save it as UTF-8"], str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"not valid TOML ({error}); fix the syntax"], str(path)) from None
    except RecursionError:
        raise ConfigError(["nested too deeply to read; flatten it"], str(path)) from None


def _tool(data: Mapping[str, Any], path: Path) -> Mapping[str, Any]:
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(["tool must be a table ([tool.NAME] sections)"], str(path))
    return tool


def ibguard_table(data: Mapping[str, Any], path: Path) -> dict[str, Any] | None:
    """The validated `[tool.ibguard]` table of a read config, None when there is none.

    Raises ConfigError naming every unknown key and every value of the wrong type."""
    table = _tool(data, path).get("ibguard")
    if table is None:
        return None
    source = f"{path} [tool.ibguard]"
    if not isinstance(table, dict):
        raise ConfigError(["must be a table: [tool.ibguard] with keys under it"], source)
    errors = []
    for key, value in table.items():
        check = SCHEMA.get(key)
        if check is None:
            close = difflib.get_close_matches(key, list(SCHEMA), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            kind = "table" if isinstance(value, dict) else "key"
            errors.append(f"unknown {kind} {key!r}{hint}")
            continue
        wanted = check(value)
        if wanted is not None:
            errors.append(f"{key} must be {wanted}")
    if errors:
        raise ConfigError(errors, source)
    return table


def _package_dirs(tool: Mapping[str, Any], path: Path) -> dict[str, str]:
    setuptools = tool.get("setuptools", {})
    package_dir = setuptools.get("package-dir", {}) if isinstance(setuptools, dict) else {}
    if not isinstance(package_dir, dict) or not all(
        isinstance(folder, str) for folder in package_dir.values()
    ):
        raise ConfigError(
            ['[tool.setuptools.package-dir] must be a table of "package" = "folder"'], str(path)
        )
    return {folder.strip("/"): str(module) for module, folder in package_dir.items() if module}


def load_settings(config_file: Path) -> Settings:
    """Settings from the [tool.ibguard] table of `config_file` (a pyproject.toml or not)."""
    data = read_config(config_file)
    table = ibguard_table(data, config_file)
    if table is None:
        raise ConfigError(
            ["no [tool.ibguard] table; add one with engine and connector globs"], str(config_file)
        )
    values: dict[str, Any] = {}
    for key in _LIST_KEYS:
        if key in table:
            values[key.replace("-", "_")] = tuple(table[key])
    for key in _BOOL_KEYS:
        if key in table:
            values[key] = table[key]
    if not values.get("engine") and not values.get("connector"):
        raise ConfigError(
            [
                "set engine and/or connector to lists of path globs, "
                "e.g. engine = ['src/app/engine/**/*.py']"
            ],
            f"{config_file} [tool.ibguard]",
        )
    tool = _tool(data, config_file)
    return Settings(
        root=config_file.resolve().parent,
        config_file=config_file.resolve(),
        package_dirs=_package_dirs(tool, config_file),
        has_importlinter="importlinter" in tool,
        **values,
    )
