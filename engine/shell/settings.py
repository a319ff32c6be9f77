"""Settings of the runnable engine service: the `[engine]` table of a TOML file, then
command-line overrides, checked together into one frozen `ServiceSettings`.

Owns: `ServiceSettings`, `load_settings` (file + overrides), and the argparse glue
(`add_arguments`, `settings_from_args`) so the runner's `configure`/`run` stay thin.

A file looks like this; every key is optional except `account`:

    [engine]
    broker = "ib"                  # "sim" or "ib"
    host = "127.0.0.1"             # TWS / IB Gateway
    port = 7497
    client_id = 7
    account = "DU1234567"
    health_host = "127.0.0.1"
    health_port = 9180
    log_dir = "logs"
    log_max_bytes = 10485760
    log_backups = 14
    log_level = "INFO"             # DEBUG adds a FILL_APPLIED line per execution
    exchange_tz = "America/New_York"
    eod_flatten_at = "15:50"       # exchange time; false (or "off") disables it
    overnight_check_at = "04:00"
    stale_after_seconds = 300
    tick_seconds = 1               # timer resolution: schedules fire up to this late
    max_messages_per_second = 45
    namespace = "ibg"

Other top-level tables are ignored, so the file may hold other sections. A relative
`log_dir` is relative to the working directory. Command-line
values are text (`--client-id 7`) and override the file. Invariant: every problem
(unknown key, wrong type, value out of range) is reported at once in one `ConfigError`
that names the key and what it allows; nothing is half-applied.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any, BinaryIO, Final, Protocol, cast, final

from ibguard.engine.config import EngineConfig
from ibguard.engine.errors import ConfigError


class _TomlReader(Protocol):
    TOMLDecodeError: type[ValueError]

    def load(self, stream: BinaryIO, /) -> dict[str, Any]: ...


# tomllib from 3.11 on, its backport tomli before: chosen by name so each interpreter
# only ever imports the one it has.
tomllib = cast(
    "_TomlReader", importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
)

__all__ = [
    "SETTING_KEYS",
    "Broker",
    "ServiceSettings",
    "add_arguments",
    "load_settings",
    "settings_from_args",
]

TABLE: Final = "engine"
_PORT_MAX: Final = 65535
_MAX_TICK_SECONDS: Final = 60  # schedules fire at most this late
_MAX_SECONDS: Final = 7 * 24 * 3600  # a week; a longer threshold is "never" in practice


class Broker(str, Enum):
    SIM = "sim"  # the in-process simulated broker
    IB = "ib"  # TWS or IB Gateway at host:port


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSettings:
    engine: EngineConfig
    broker: Broker = Broker.SIM
    host: str = "127.0.0.1"
    port: int = 7497
    health_host: str = "127.0.0.1"
    health_port: int = 9180
    log_dir: Path = Path("logs")
    log_max_bytes: int = 10 * 1024 * 1024
    log_backups: int = 14
    log_level: int = logging.INFO
    tick_seconds: float = 1.0  # how often broker time is ticked into the engine
    source: str = ""  # where the settings came from, for messages


class _Invalid(Exception):
    """One value is wrong; the message says what is allowed."""


# A parser turns a TOML value (or, when `text` is true, a command-line string) into the
# setting's value, or raises _Invalid.
_Parser = Callable[[object, bool], object]


def _integer(low: int, high: int | None = None) -> _Parser:
    allowed = f"an integer >= {low}" if high is None else f"an integer {low}..{high}"

    def parse(value: object, text: bool) -> object:
        if text and isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise _Invalid(f"must be {allowed}, got {value!r}") from None
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid(f"must be {allowed}, got {value!r}")
        if value < low or (high is not None and value > high):
            raise _Invalid(f"must be {allowed}, got {value}")
        return value

    return parse


def _text(value: object, text: bool) -> object:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"must be a non-empty string, got {value!r}")
    return value


def _path(value: object, text: bool) -> object:
    return Path(str(_text(value, text)))


_LOG_LEVELS: Final = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING}


def _log_level(value: object, text: bool) -> object:
    level = _LOG_LEVELS.get(value.upper()) if isinstance(value, str) else None
    if level is None:
        raise _Invalid(f"must be {', '.join(_LOG_LEVELS)}, got {value!r}")
    return level


def _broker(value: object, text: bool) -> object:
    try:
        return Broker(value)
    except ValueError:
        allowed = " or ".join(repr(broker.value) for broker in Broker)
        raise _Invalid(f"must be {allowed}, got {value!r}") from None


def _time_of_day(value: object, text: bool) -> object:
    """ "HH:MM" or "HH:MM:SS" (or a TOML local time) in exchange time; false/"off" = None."""
    if value is False or value == "off":
        return None
    if isinstance(value, time):
        return value
    if isinstance(value, str) and value.count(":") in (1, 2):
        try:
            parsed = time.fromisoformat(value.zfill(5) if len(value) == 4 else value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            return parsed
    raise _Invalid(f'must be a time of day like "15:50", or false to disable, got {value!r}')


def _seconds(value: object, text: bool) -> object:
    number: object = value
    if text and isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
    allowed = f"must be a positive number of seconds up to {_MAX_SECONDS}"
    if isinstance(number, bool) or not isinstance(number, (int, float, Decimal)):
        raise _Invalid(f"{allowed}, got {value!r}")
    if not Decimal(number).is_finite() or not 0 < number <= _MAX_SECONDS:
        raise _Invalid(f"{allowed}, got {value!r}")
    return timedelta(seconds=float(number))


def _tick(value: object, text: bool) -> object:
    seconds = cast("timedelta", _seconds(value, text)).total_seconds()
    if seconds > _MAX_TICK_SECONDS:
        raise _Invalid(f"must be at most {_MAX_TICK_SECONDS} seconds, got {value!r}")
    return seconds


@dataclass(frozen=True, slots=True)
class _Key:
    parse: _Parser
    field: str  # the ServiceSettings or EngineConfig field it fills
    in_engine: bool  # True: an EngineConfig field
    help: str


SETTING_KEYS: Final[Mapping[str, _Key]] = {
    "broker": _Key(_broker, "broker", False, "sim or ib"),
    "host": _Key(_text, "host", False, "TWS / IB Gateway host"),
    "port": _Key(_integer(1, _PORT_MAX), "port", False, "TWS / IB Gateway port"),
    "client_id": _Key(_integer(0), "client_id", True, "API client id"),
    "account": _Key(_text, "account", True, "IB account to trade, e.g. DU1234567"),
    "health_host": _Key(_text, "health_host", False, "host the health server binds"),
    "health_port": _Key(_integer(0, _PORT_MAX), "health_port", False, "health port, 0 = any"),
    "log_dir": _Key(_path, "log_dir", False, "directory of the JSON log files"),
    "log_max_bytes": _Key(_integer(1), "log_max_bytes", False, "size cap of one log file"),
    "log_backups": _Key(_integer(0), "log_backups", False, "old log files kept"),
    "log_level": _Key(_log_level, "log_level", False, "DEBUG (a line per fill), INFO, WARNING"),
    "exchange_tz": _Key(_text, "exchange_tz", True, "exchange time zone (IANA name)"),
    "eod_flatten_at": _Key(_time_of_day, "eod_flatten_at", True, "HH:MM, or off"),
    "overnight_check_at": _Key(_time_of_day, "overnight_check_at", True, "HH:MM, or off"),
    "stale_after_seconds": _Key(_seconds, "stale_after", True, "status staleness threshold"),
    "tick_seconds": _Key(_tick, "tick_seconds", False, "timer resolution (schedules, timeouts)"),
    "max_messages_per_second": _Key(
        _integer(1), "max_messages_per_second", True, "API message rate cap"
    ),
    "namespace": _Key(_text, "namespace", True, "orderRef prefix of this engine's orders"),
}


def load_settings(
    path: Path | str | None = None, overrides: Mapping[str, str] | None = None
) -> ServiceSettings:
    """Settings from the `[engine]` table of the TOML file at `path` (if any), with
    `overrides` (command-line text, keyed by setting name) applied on top.

    Raises `ConfigError` listing every problem found.
    """
    source = str(path) if path is not None else "command line"
    errors: list[str] = []
    raw: dict[str, tuple[object, bool, str]] = {}  # key -> (value, is text, name to show)
    if path is not None:
        for key, value in _read_table(Path(path), errors).items():
            raw[key] = (value, False, key)
    for key, value in (overrides or {}).items():
        raw[key] = (value, True, "--" + key.replace("_", "-"))

    # Any: each parser returns the type of the field it fills (see SETTING_KEYS)
    service: dict[str, Any] = {}
    engine: dict[str, Any] = {}
    failed: set[str] = set()
    for key, (value, text, shown) in raw.items():
        spec = SETTING_KEYS.get(key)
        if spec is None:
            errors.append(_unknown(key, shown))
            continue
        try:
            parsed = spec.parse(value, text)
        except _Invalid as exc:
            errors.append(f"{shown}: {exc}")
            failed.add(key)
            continue
        (engine if spec.in_engine else service)[spec.field] = parsed

    if "account" not in engine and "account" not in failed:
        errors.append("account: required, the IB account to trade, e.g. 'DU1234567'")
    try:
        # "?" stands in for a missing or bad account (already reported) so that
        # EngineConfig still checks, and reports, every other field in the same pass
        config = EngineConfig(**{"account": "?", **engine})
    except ConfigError as exc:
        errors.extend(exc.errors)
    if errors:
        raise ConfigError(errors, source=source)
    return ServiceSettings(engine=config, source=source, **service)


def _read_table(path: Path, errors: list[str]) -> dict[str, object]:
    try:
        with path.open("rb") as stream:
            document = tomllib.load(stream)
    except OSError as exc:
        errors.append(f"cannot read the file: {exc.strerror or exc}")
        return {}
    except tomllib.TOMLDecodeError as exc:
        errors.append(f"not valid TOML: {exc}")
        return {}
    except UnicodeDecodeError as exc:
        errors.append(f"not UTF-8 text (byte {exc.start}): TOML files are UTF-8")
        return {}
    errors.extend(
        f"{key}: must be inside the [{TABLE}] table" for key in document if key in SETTING_KEYS
    )
    table = document.get(TABLE)
    if not isinstance(table, dict):
        errors.append(f"no [{TABLE}] table: put the settings under a line reading [{TABLE}]")
        return {}
    return table


def _unknown(key: str, shown: str) -> str:
    close = difflib.get_close_matches(key, list(SETTING_KEYS), n=1)
    if close:
        return f"{shown}: unknown key, did you mean {close[0]!r}?"
    return f"{shown}: unknown key, allowed: {', '.join(SETTING_KEYS)}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--config FILE` and one `--<key>` option per setting (all text, checked later)."""
    parser.add_argument("--config", metavar="FILE", help=f"TOML file with an [{TABLE}] table")
    for key, spec in SETTING_KEYS.items():
        parser.add_argument("--" + key.replace("_", "-"), dest=key, metavar="VALUE", help=spec.help)


def settings_from_args(args: argparse.Namespace) -> ServiceSettings:
    """Settings from the options `add_arguments` defined; raises `ConfigError`."""
    overrides = {
        key: value for key in SETTING_KEYS if (value := getattr(args, key, None)) is not None
    }
    return load_settings(args.config, overrides)
