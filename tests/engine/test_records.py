"""The records the engine core hands out (events, commands, snapshots, results) are frozen,
slotted, keyword-only dataclasses (STYLE.md §1): a caller can neither change a snapshot it was
given nor build a record with its fields silently out of order."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import ibguard.engine
import pytest

# the engine's own working state, mutated in place by the module that owns it and never handed out
_INTERNAL_STATE = {"FlattenRun", "OrderRecord", "ReconcileRun"}
# OrderRecord's base classes: its fields in the order the per-event paths want them in memory
_INTERNAL_STATE |= {"_StatusFields", "_FillFields"}


def _core_records() -> list[type]:
    records: dict[str, type] = {}
    for info in pkgutil.iter_modules(ibguard.engine.__path__):
        if info.ispkg:  # engine/shell and engine/connector are not the core
            continue
        module = importlib.import_module(f"ibguard.engine.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == module.__name__
                and value.__name__ not in _INTERNAL_STATE
            ):
                records[f"{module.__name__}.{value.__qualname__}"] = value
    return [records[name] for name in sorted(records)]


RECORDS = _core_records()


def test_the_engine_core_hands_out_dozens_of_records() -> None:
    # guards the discovery above: an empty list would make the checks below pass vacuously
    assert len(RECORDS) >= 30


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.__qualname__)
def test_record_is_frozen_slotted_and_keyword_only(record: type) -> None:
    params = record.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen, "a caller could change a record it was handed"
    assert "__slots__" in vars(record), "records are slotted: no per-instance __dict__"
    positional = [f.name for f in dataclasses.fields(record) if f.init and not f.kw_only]
    assert positional == [], "fields must be passed by name"
