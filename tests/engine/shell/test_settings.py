"""Service settings: the [engine] TOML table plus command-line overrides, all errors at once."""

from __future__ import annotations

import argparse
import logging
from datetime import time, timedelta
from pathlib import Path

import pytest
from ibguard.engine.errors import ConfigError
from ibguard.engine.shell.settings import (
    SETTING_KEYS,
    Broker,
    ServiceSettings,
    add_arguments,
    load_settings,
    settings_from_args,
)

FULL = """
[engine]
broker = "ib"
host = "10.0.0.5"
port = 4002
client_id = 7
account = "DU1234567"
health_host = "0.0.0.0"
health_port = 9200
log_dir = "/var/log/ibguard"
log_max_bytes = 1048576
log_backups = 3
log_level = "debug"
exchange_tz = "Europe/London"
eod_flatten_at = "16:20"
overnight_check_at = 05:30:00
stale_after_seconds = 90.5
tick_seconds = 0.25
max_messages_per_second = 40
namespace = "desk1"

[other]
anything = "is ignored"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ibguard.toml"
    path.write_text(text)
    return path


def errors_of(path: Path | None = None, overrides: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, overrides)
    return list(caught.value.errors)


def test_a_full_file_fills_every_setting(tmp_path: Path):
    path = write(tmp_path, FULL)
    settings = load_settings(path)
    assert settings.broker is Broker.IB
    assert (settings.host, settings.port) == ("10.0.0.5", 4002)
    assert (settings.health_host, settings.health_port) == ("0.0.0.0", 9200)
    assert settings.log_dir == Path("/var/log/ibguard")
    assert (settings.log_max_bytes, settings.log_backups) == (1048576, 3)
    assert settings.log_level == logging.DEBUG  # the per-fill FILL_APPLIED lines are on
    assert settings.source == str(path)
    assert settings.tick_seconds == 0.25
    engine = settings.engine
    assert (engine.account, engine.client_id, engine.namespace) == ("DU1234567", 7, "desk1")
    assert engine.exchange_tz == "Europe/London"
    assert engine.eod_flatten_at == time(16, 20)
    assert engine.overnight_check_at == time(5, 30)
    assert engine.stale_after == timedelta(seconds=90.5)
    assert engine.max_messages_per_second == 40


def test_only_the_account_is_required(tmp_path: Path):
    settings = load_settings(write(tmp_path, '[engine]\naccount = "DU1"\n'))
    assert settings == ServiceSettings(
        engine=settings.engine.__class__(account="DU1"), source=settings.source
    )
    assert settings.broker is Broker.SIM
    assert settings.engine.eod_flatten_at == time(15, 50)


def test_command_line_text_overrides_the_file(tmp_path: Path):
    settings = load_settings(
        write(tmp_path, FULL),
        {
            "client_id": "9",
            "broker": "sim",
            "eod_flatten_at": "off",
            "overnight_check_at": "4:00",
            "stale_after_seconds": "2.5",
            "log_dir": "logs",
        },
    )
    assert settings.engine.client_id == 9
    assert settings.broker is Broker.SIM
    assert settings.engine.eod_flatten_at is None
    assert settings.engine.overnight_check_at == time(4, 0)
    assert settings.engine.stale_after == timedelta(seconds=2.5)
    assert settings.log_dir == Path("logs")
    assert settings.port == 4002  # untouched file value


def test_overrides_alone_are_enough():
    settings = load_settings(overrides={"account": "DU2", "health_port": "0"})
    assert settings.engine.account == "DU2"
    assert settings.health_port == 0
    assert settings.source == "command line"


def test_every_problem_is_reported_together(tmp_path: Path):
    path = write(
        tmp_path,
        """
[engine]
clientid = 7
colour = "blue"
broker = "tws"
port = 70000
health_port = "9180"
log_max_bytes = 0
log_backups = true
log_level = "chatty"
host = ""
exchange_tz = "Mars/Olympus"
namespace = "a:b"
eod_flatten_at = "25:00"
overnight_check_at = 400
stale_after_seconds = 0
max_messages_per_second = 1.5
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {"log_dir": "  ", "client_id": "x"})
    error = caught.value
    assert error.source == str(path)
    by_key = {message.split(":", 1)[0]: message for message in error.errors}
    assert "did you mean 'client_id'" in by_key["clientid"]
    assert "allowed: broker, host" in by_key["colour"]
    assert "'sim' or 'ib'" in by_key["broker"]
    assert "1..65535" in by_key["port"]
    assert "0..65535" in by_key["health_port"]
    assert ">= 1" in by_key["log_max_bytes"]
    assert ">= 0" in by_key["log_backups"]
    assert "DEBUG, INFO, WARNING" in by_key["log_level"]
    assert "non-empty" in by_key["host"]
    assert "time zone" in by_key["exchange_tz"]
    assert "namespace" in by_key
    assert "15:50" in by_key["eod_flatten_at"]
    assert "overnight_check_at" in by_key
    assert "positive number of seconds" in by_key["stale_after_seconds"]
    assert "max_messages_per_second" in by_key
    assert "non-empty" in by_key["--log-dir"]
    assert "integer" in by_key["--client-id"]
    assert "account" in by_key  # missing, and said so in the same breath
    assert len(error.errors) == 18
    assert str(error).count(";") == 17  # one line for the CLI


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"9:30"', time(9, 30)),
        ('"15:50:30"', time(15, 50, 30)),
        ("15:50:00", time(15, 50)),
        ("false", None),
        ('"off"', None),
    ],
)
def test_times_of_day(tmp_path: Path, value: str, expected: time | None):
    text = f'[engine]\naccount = "DU1"\neod_flatten_at = {value}\n'
    assert load_settings(write(tmp_path, text)).engine.eod_flatten_at == expected


@pytest.mark.parametrize("value", ['"15:50+01:00"', '"ab:cd"', '"1550"', "true", "1550"])
def test_bad_times_of_day(tmp_path: Path, value: str):
    text = f'[engine]\naccount = "DU1"\neod_flatten_at = {value}\n'
    (message,) = errors_of(write(tmp_path, text))
    assert message.startswith("eod_flatten_at: must be a time of day")


@pytest.mark.parametrize("value", ["0", "-1", "abc", "NaN", "inf", "true"])
def test_bad_seconds_from_the_command_line(value: str):
    (message,) = errors_of(overrides={"account": "DU1", "stale_after_seconds": value})
    assert message.startswith("--stale-after-seconds: must be a positive number of seconds")


@pytest.mark.parametrize("value", ["true", "inf", '"5"'])
def test_bad_seconds_in_the_file(tmp_path: Path, value: str):
    text = f'[engine]\naccount = "DU1"\nstale_after_seconds = {value}\n'
    (message,) = errors_of(write(tmp_path, text))
    assert message.startswith("stale_after_seconds: must be a positive number")


def test_a_bad_account_is_reported_once(tmp_path: Path):
    assert errors_of(write(tmp_path, "[engine]\naccount = 5\n")) == [
        "account: must be a non-empty string, got 5"
    ]


def test_an_unknown_override_is_reported_with_its_flag():
    assert errors_of(overrides={"account": "DU1", "clent_id": "3"}) == [
        "--clent-id: unknown key, did you mean 'client_id'?"
    ]


def test_settings_outside_the_engine_table_are_pointed_at(tmp_path: Path):
    path = write(tmp_path, 'account = "DU1"\n[engine]\nport = 4002\n')
    assert errors_of(path) == [
        "account: must be inside the [engine] table",
        "account: required, the IB account to trade, e.g. 'DU1234567'",
    ]


@pytest.mark.parametrize("text", ["", "engine = 3\n", "[tool]\nx = 1\n"])
def test_a_file_without_an_engine_table(tmp_path: Path, text: str):
    messages = errors_of(write(tmp_path, text))
    assert messages[0].startswith("no [engine] table")


def test_a_file_that_is_not_toml_or_not_there(tmp_path: Path):
    (message, _) = errors_of(write(tmp_path, "[engine\n"))
    assert message.startswith("not valid TOML")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "missing.toml")
    assert caught.value.errors[0].startswith("cannot read the file")
    assert caught.value.source == str(tmp_path / "missing.toml")


def test_command_line_options_cover_every_key(tmp_path: Path):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    path = write(tmp_path, FULL)
    args = parser.parse_args(["--config", str(path), "--client-id", "11", "--broker", "sim"])
    settings = settings_from_args(args)
    assert settings.engine.client_id == 11
    assert settings.broker is Broker.SIM
    assert settings.port == 4002

    every = [arg for key in SETTING_KEYS for arg in ("--" + key.replace("_", "-"), "1")]
    args = parser.parse_args(every)
    assert vars(args) == {"config": None, **dict.fromkeys(SETTING_KEYS, "1")}


def test_command_line_errors_name_the_flag():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(ConfigError) as caught:
        settings_from_args(parser.parse_args(["--account", "DU1", "--health-port", "-5"]))
    assert caught.value.errors == ("--health-port: must be an integer 0..65535, got -5",)


@pytest.mark.parametrize("value", ["0", "-1", "61", "nan", "x"])
def test_a_tick_outside_0_to_60_seconds_is_refused(value: str):
    (message,) = errors_of(overrides={"account": "DU1", "tick_seconds": value})
    assert message.startswith("--tick-seconds: must be")
