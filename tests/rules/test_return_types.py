"""The project-wide type facts one module contributes (return_types.collect)."""

from __future__ import annotations

import textwrap

from ibguard.rules import return_types

SOURCE = textwrap.dedent(
    """
    from typing import ClassVar
    from ib_insync import *
    from app.base import Base

    def connect_to_IB(host):
        ib = IB()
        ib.connect(host)
        return ib

    _shared = None
    def shared_ib():
        global _shared
        if _shared is None:
            _shared = IB()
        return _shared

    class Runner(Base):
        ib: ClassVar[IB]
        def __init__(self, other: IB) -> None:
            self.session = connect_to_IB("127.0.0.1")
            self.other = other
        def client(self):
            return self.session
        def placeOrder(self, order) -> None: ...

    def main(account):
        ib = IB()
        return Runner(ib), connect_to_IB(host="127.0.0.1")
    """
)


def facts() -> dict[str, str]:
    return return_types.collect(SOURCE, "app.engine.run", is_package=False)


def test_unannotated_functions_are_typed_by_what_they_build_and_return() -> None:
    found = facts()
    assert found["app.engine.run.connect_to_IB"] == "call:ib_insync.IB"
    assert found["app.engine.run.shared_ib"] == "call:ib_insync.IB"
    assert found["app.engine.run.Runner.client"] == "call:app.engine.run.connect_to_IB"


def test_class_attributes_come_from_classvars_assignments_and_annotated_parameters() -> None:
    found = facts()
    assert found["attr:app.engine.run.Runner.ib"] == "ib_insync.IB"
    assert found["attr:app.engine.run.Runner.session"] == "call:app.engine.run.connect_to_IB"
    assert found["attr:app.engine.run.Runner.other"] == "ib_insync.IB"


def test_bases_and_the_projects_own_distinctive_methods_are_recorded() -> None:
    found = facts()
    assert found["bases:app.engine.run.Runner"] == "app.base.Base"
    assert found["defines:placeOrder"] == "app.engine.run.Runner.placeOrder"
    assert "defines:client" not in found  # only distinctive IB client names are recorded


def test_what_calls_pass_is_recorded_by_position_and_keyword() -> None:
    found = facts()
    assert found["arg:app.engine.run.Runner#0"] == "call:ib_insync.IB"
    assert "arg:app.engine.run.connect_to_IB#host" not in found  # a str, not built by a call
