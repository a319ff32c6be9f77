"""The broker libraries' models: read from the installed source, committed as a fallback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ibguard.rules import broker_model, registry
from ibguard.rules.broker_model import EVENT, PLAIN, BrokerModel, committed_table, read_library

LIBRARIES = ("ib_async", "ib_insync", "ibapi")


@pytest.fixture(autouse=True)
def fresh_models() -> Iterator[None]:
    broker_model.model.cache_clear()
    yield
    broker_model.model.cache_clear()


@pytest.mark.parametrize("library", LIBRARIES)
def test_committed_table_is_what_the_installed_library_says(library: str) -> None:
    committed = BrokerModel.from_json(committed_table(library).read_text())
    installed = read_library(library)
    assert installed is not None, f"{library} is a dev dependency and must be installed"
    assert installed == committed, (
        f"rules/broker_model_{library}.json is stale for {library} {installed.version}; "
        "regenerate it with `python -m ibguard.rules.broker_model`"
    )


def test_model_types_fields_methods_and_events_from_the_annotations() -> None:
    ib_async = read_library("ib_async")
    assert ib_async is not None
    assert ib_async.member("ib_async.IB", "client") == ("field", "ib_async.client.Client")
    assert ib_async.member("ib_async.IB", "positions") == (
        "method",
        "list:ib_async.objects.Position",
    )
    assert ib_async.member("ib_async.PortfolioItem", "position") == ("field", PLAIN)
    assert ib_async.member("ib_async.Trade", "statusEvent") == ("field", EVENT)
    ibapi = read_library("ibapi")
    assert ibapi is not None
    assert ibapi.member("ibapi.contract.Contract", "right") == ("field", PLAIN)
    assert ibapi.member("ibapi.client.EClient", "reqMktData") == ("method", "")


def test_a_version_without_a_committed_table_is_read_once_and_cached(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(broker_model, "installed_version", lambda library: "0.0.test")
    found = broker_model.model("ib_async")
    assert found is not None
    assert found.member("ib_async.IB", "client") is not None
    cached = tmp_path / "ibguard" / "broker-model-ib_async-0.0.test.json"
    assert BrokerModel.from_json(cached.read_text()) == found


def test_a_library_that_is_not_installed_uses_the_committed_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(broker_model, "installed_version", lambda library: None)
    found = broker_model.model("ibapi")
    assert found == BrokerModel.from_json(committed_table("ibapi").read_text())


def test_another_installed_broker_version_invalidates_cached_findings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry.ruleset_version.cache_clear()
    before = registry.ruleset_version()
    monkeypatch.setattr(registry, "installed_version", lambda library: "99.0")
    registry.ruleset_version.cache_clear()
    try:
        assert registry.ruleset_version() != before
    finally:
        registry.ruleset_version.cache_clear()
