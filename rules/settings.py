"""`[tool.ibguard]` as far as `ibguard check` reads it: frozen settings, every bad key at once.

Owned keys: engine, connector, exclude (lists of path globs, `**` allowed, relative to the
config file's folder), broker-libraries, state-types, port-types (lists of names), cache and
contracts (booleans). Keys of other ibguard features (`subject`, `driver`, `coverage`, `xfail`,
`capabilities`, `matrix`, ...) and any sub-table are left to their owners; any other key is an
error. Module names of files follow `[tool.setuptools.package-dir]` of the same file.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ibguard.errors import ConfigError
from ibguard.rules.broker_api import DEFAULT_BROKER_LIBRARIES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["OTHER_FEATURE_KEYS", "Settings", "find_config", "load_settings"]

_LIST_KEYS: Final = (
    "engine",
    "connector",
    "exclude",
    "broker-libraries",
    "state-types",
    "port-types",
)
_BOOL_KEYS: Final = ("cache", "contracts")
# Keys of [tool.ibguard] that belong to other ibguard features; check ignores them.
OTHER_FEATURE_KEYS: Final = frozenset(
    {"subject", "driver", "coverage", "xfail", "capabilities", "matrix", "cases", "report", "gate"}
)


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


def find_config(start: Path) -> Path:
    """The nearest pyproject.toml with a [tool.ibguard] table, from `start` upwards."""
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "ibguard" in _read(candidate).get("tool", {}):
            return candidate
    raise ConfigError(
        [
            "no pyproject.toml with a [tool.ibguard] table here or above; "
            "add one or pass --config FILE"
        ]
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError(
            [f"cannot read it ({error.strerror}); check the path"], str(path)
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"not valid TOML ({error}); fix the syntax"], str(path)) from None


def load_settings(config_file: Path) -> Settings:
    """Settings from the [tool.ibguard] table of `config_file` (a pyproject.toml or not)."""
    data = _read(config_file)
    tool = data.get("tool", {})
    table = tool.get("ibguard")
    if not isinstance(table, dict):
        raise ConfigError(
            ["no [tool.ibguard] table; add one with engine and connector globs"], str(config_file)
        )
    errors: list[str] = []
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key in _LIST_KEYS:
            if not isinstance(raw, list) or not all(isinstance(item, str) and item for item in raw):
                errors.append(f"{key} must be a list of non-empty strings")
            else:
                values[key.replace("-", "_")] = tuple(raw)
        elif key in _BOOL_KEYS:
            if not isinstance(raw, bool):
                errors.append(f"{key} must be true or false")
            else:
                values[key] = raw
        elif key not in OTHER_FEATURE_KEYS and not isinstance(raw, dict):
            close = difflib.get_close_matches(key, [*_LIST_KEYS, *_BOOL_KEYS], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(f"unknown key {key!r}{hint}")
    if not errors and not values.get("engine") and not values.get("connector"):
        errors.append(
            "set engine and/or connector to lists of path globs, "
            "e.g. engine = ['src/app/engine/**/*.py']"
        )
    if errors:
        raise ConfigError(errors, f"{config_file} [tool.ibguard]")
    package_dir = tool.get("setuptools", {}).get("package-dir", {})
    package_dirs = {
        str(folder).strip("/"): str(module)
        for module, folder in package_dir.items()
        if module and isinstance(folder, str)
    }
    return Settings(
        root=config_file.resolve().parent,
        config_file=config_file.resolve(),
        package_dirs=package_dirs,
        has_importlinter="importlinter" in tool,
        **values,
    )
