"""BOUNDARY-01: connector code mutates engine state (CASES.md BOUNDARY-01).

Owns the judgement "this connector statement changes an engine object". Which objects are
engine state comes from `resolution` (configured `state-types`, anything annotated or built as
one, and the parameters of methods of a class implementing the engine's port).
"""

from __future__ import annotations

from typing import Final

import libcst as cst
from ibguard.rules.base import Invalid, Rule, Target, Valid

# An engine module the samples below import: methods annotated to return engine state or not.
_ENGINE_CORE: Final = {
    "app.engine.core": (
        "from typing import Optional\n"
        "from app.model import OrderState\n"
        "from app.reports import Report\n"
        "class Engine:\n"
        "    def snapshot(self) -> OrderState: ...\n"
        "    def find(self, oms_id: str) -> Optional[OrderState]: ...\n"
        "    def summary(self) -> Report: ...\n"
        "    def untyped(self): ...\n"
    )
}

__all__ = ["ConnectorMutatesEngineState"]

_MUTATORS: Final = frozenset(
    {
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "popitem",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "sort",
        "reverse",
        "__setattr__",
        "__setitem__",
        "__delitem__",
        "__delattr__",
        "__iadd__",
    }
)
_SETTERS: Final = frozenset({"setattr", "delattr", "object.__setattr__", "object.__delattr__"})


class ConnectorMutatesEngineState(Rule):
    """The connector turns broker callbacks into events; it never changes engine state.

    Reports, in connector files: assignment, augmented assignment and `del` on an attribute
    or item of an engine state object (`state.status = FILLED`, `order.filled += qty`,
    `del book.orders[oid]`), `setattr`/`object.__setattr__` on one, and mutating method calls
    (`state.fills.append(fill)`, `.update`, `.pop`, ...). Engine state objects are instances
    of the configured `state-types`, anything annotated or constructed as one, what a project
    function or method annotated to return one returns (`self.engine.snapshot()`, also when
    the method is defined in another module), and the parameters of methods of a class
    implementing one of the configured `port-types` (what the engine hands the connector
    through its port).
    """

    id = "BOUNDARY-01"
    MESSAGE = "connector code mutates engine state"
    TARGET = Target.CONNECTOR
    CANNOT = (
        "State objects reached through unannotated containers or untyped helpers "
        "(`self.orders[oid].status = X` when `self.orders` has no annotation); mutation "
        "inside a function the connector calls in another module."
    )

    VALID = (
        Valid("""
            from app.model import OrderState
            def on_status(state: OrderState, emit) -> None:
                emit(("status", state.oms_id, "Filled"))  # reads, then emits an event
            """),
        Valid("""
            class Adapter:
                def __init__(self) -> None:
                    self.pending = []
                def on_fill(self, fill) -> None:
                    self.pending.append(fill)  # the connector's own state
                    self.count = 1
            """),
        Valid("""
            from app.model import OrderState
            def copy(state: OrderState) -> OrderState:
                fills = list(state.fills)
                fills.append(1)
                return OrderState(fills=tuple(fills))
            """),
        Valid(
            """
            from app.engine.core import Engine
            class Adapter:
                engine: Engine
                def on_fill(self) -> None:
                    report = self.engine.summary()  # annotated, but not a state type
                    report.status = "FILLED"
                    other = self.engine.untyped()  # no annotation: cannot be told
                    other.status = "FILLED"
                    self.engine.snapshot()  # reading state is fine
            """,
            project=_ENGINE_CORE,
        ),
    )

    INVALID = (
        Invalid(
            """
            from app.model import OrderState
            def on_status(state: OrderState) -> None:
                state.status = "FILLED"
            """,
            3,
            5,
        ),
        Invalid(
            """
            from app import model
            def on_fill(order: "model.OrderState", qty) -> None:
                order.filled += qty
            """,
            3,
            5,
        ),
        Invalid(
            """
            from app.model import OrderState as S
            snapshot = S()
            del snapshot.fills[0]
            """,
            3,
            1,
        ),
        Invalid(
            """
            from app.model import OrderState
            def force(state: OrderState) -> None:
                setattr(state, "status", "CANCELED")
                object.__setattr__(state, "status", "CANCELED")
            """,
            3,
            5,
            count=2,
        ),
        Invalid(
            """
            from app.model import OrderState
            class Adapter:
                state: OrderState
                def on_exec(self, fill) -> None:
                    self.state.fills.append(fill)
            """,
            5,
            9,
        ),
        Invalid(
            """
            from app.ports import BrokerPort
            class IbPort(BrokerPort):
                def send(self, command) -> None:
                    command.sent = True
            """,
            4,
            9,
        ),
        Invalid(
            """
            from ..model import OrderState
            def reset(states: "dict[str, OrderState]", s: OrderState) -> None:
                s.fills.clear()
            """,
            3,
            5,
        ),
        Invalid(
            """
            from app.engine.core import Engine
            class Adapter:
                engine: Engine
                def on_fill(self) -> None:
                    snap = self.engine.snapshot()
                    snap.status = "FILLED"
            """,
            6,
            9,
            project=_ENGINE_CORE,
        ),
        Invalid(
            """
            from app.engine.core import Engine
            class Adapter:
                def __init__(self) -> None:
                    self.engine = Engine()
                def on_fill(self) -> None:
                    self.engine.snapshot().status = "FILLED"
            """,
            6,
            9,
            project=_ENGINE_CORE,
        ),
        Invalid(
            """
            from app.engine.core import Engine
            engine = Engine()
            def on_cancel(oms_id: str) -> None:
                snap = engine.find(oms_id)
                setattr(snap, "status", "CANCELED")
            """,
            5,
            5,
            project=_ENGINE_CORE,
        ),
    )

    def _is_state_root(self, target: cst.BaseExpression) -> bool:
        """True if `target` (an attribute or item chain) hangs off an engine state object."""
        node = target
        while isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
            if self.resolver.is_state(self.resolver.value_of(node)):
                return True
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._check_target(node, target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check_target(node, node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._check_target(node, node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._check_target(node, node.target)

    def _check_target(self, node: cst.CSTNode, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._check_target(node, element.value)
        elif self._is_state_root(target):
            self.report(node, f"changes `{cst.Module([]).code_for_node(target)}`")

    def visit_Call(self, node: cst.Call) -> None:
        name = cst.helpers.get_full_name_for_node(node.func) or ""
        if name in _SETTERS and node.args:
            subject = node.args[0].value
            if self.resolver.is_state(self.resolver.value_of(subject)) or self._is_state_root(
                subject
            ):
                self.report(node, f"calls `{name}` on an engine state object")
            return
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in _MUTATORS
            and self._is_state_root(func)
        ):
            self.report(node, f"calls the mutating method `{func.attr.value}`")
