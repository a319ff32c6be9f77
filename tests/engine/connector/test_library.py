"""Choosing the broker library: ib_async by default, ib_insync when it is missing."""

from __future__ import annotations

import sys
import types

import pytest
from ibguard.engine.connector.library import load_library
from ibguard.engine.errors import UsageError


def test_default_is_ib_async() -> None:
    pytest.importorskip("ib_async")
    chosen = load_library()
    assert chosen.name == "ib_async"
    assert type(chosen.ib()).__module__.startswith("ib_async")


def test_falls_back_to_ib_insync_when_ib_async_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ib_insync")
    monkeypatch.setitem(sys.modules, "ib_async", None)  # import raises ImportError
    assert load_library().name == "ib_insync"


def test_no_library_installed_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ib_async", None)
    monkeypatch.setitem(sys.modules, "ib_insync", None)
    with pytest.raises(UsageError, match="pip install ib_async"):
        load_library()


def test_a_module_or_its_ib_class() -> None:
    insync = pytest.importorskip("ib_insync")
    assert load_library(insync).name == "ib_insync"
    chosen = load_library(insync.IB)
    assert chosen.name == "ib_insync"
    assert chosen.order is insync.Order


def test_anything_else_is_refused() -> None:
    with pytest.raises(UsageError):
        load_library("ib_async")
    with pytest.raises(UsageError):
        load_library(types.ModuleType("fake"))
