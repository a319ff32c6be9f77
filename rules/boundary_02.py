"""BOUNDARY-02: engine code bypasses the connector (CASES.md BOUNDARY-02).

Owns the judgement "this engine expression touches the broker library". What a name refers to
comes from `resolution`; this module only decides which resolved uses are findings.
"""

from __future__ import annotations

from typing import Final

import libcst as cst
from ibguard.rules.base import FileContext, Invalid, Rule, Target, Valid
from ibguard.rules.broker_api import is_distinctive_client_method
from ibguard.rules.names import terminal_name, words
from ibguard.rules.values import Kind, Value

__all__ = ["EngineBypassesConnector"]

# Words that make an unresolved receiver look like the broker client.
_CLIENT_WORDS: Final = frozenset({"ib", "ibkr", "tws", "ibapi", "eclient"})
# Broker client classes: every member of one of their instances is a client method.
_CLIENT_CLASSES: Final = frozenset({"IB", "EClient", "Client"})
_DYNAMIC_IMPORTS: Final = frozenset({"importlib.import_module", "import_module", "__import__"})


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _looks_like_client(receiver: cst.BaseExpression) -> bool:
    return bool(_CLIENT_WORDS.intersection(words(terminal_name(receiver))))


class EngineBypassesConnector(Rule):
    """Engine code must reach the broker only through the connector's port.

    Reports, in engine files: imports of a broker library (`ib_async`, `ib_insync`, `ibapi`, or
    the configured `broker-libraries`), also through a project module that re-exports it;
    dynamic imports (`importlib.import_module("ib_insync")`, `__import__`); any call of the
    broker library or of a broker object (`IB()`, `LimitOrder(...)`, `ib.cancelOrder()`,
    `self.ib.placeOrder()`, `Class.ib.reqGlobalCancel()`, `getattr(ib, "cancelOrder")`);
    members of a broker object taken without a call (`loop.call_soon(ib.cancelOrder, 1)`,
    `functools.partial(ib.cancelOrder, 1)`, `[ib.placeOrder]`, `cb = util.run`); event
    subscriptions (`ib.execDetailsEvent += handler`); and private names of connector
    modules. Receivers are resolved through aliases, star imports, `x = IB()`, `self.x`,
    parameters, attributes and return values annotated with broker types (also in another
    project module). On broker data the project returns (`trade = connector.open_trade()`) only
    client methods count (`trade.orderStatus.status` is data). When a receiver
    cannot be resolved, a distinctive IB client method (`placeOrder`, `cancelOrder`,
    `req...`, `openTrades`, `whatIfOrder`, ...) on an object named like the client (`ib`,
    `self._ib`, `ib_client`, `tws`) is reported too.
    """

    id = "BOUNDARY-02"
    MESSAGE = "engine code bypasses the connector"
    TARGET = Target.ENGINE
    CANNOT = (
        "Objects passed in without a broker annotation and not named like the client "
        "(`def f(x): x.placeOrder()`); broker objects hidden in containers (`self.clients[0]`); "
        "calls built from strings other than `getattr`/`import_module`; `exec`/`eval`."
    )

    VALID = (
        Valid("""
            from app.ports import BrokerPort
            def cancel(port: BrokerPort, oms_id: str) -> None:
                port.send(("cancel", oms_id))
            """),
        Valid("""
            class Book:
                def placeOrder(self, order): ...
            book = Book()
            book.placeOrder(1)
            book.cancelOrder(1)
            """),
        Valid("""
            from app.orders import OrderManager
            def run(ib: OrderManager):
                ib.placeOrder(1)  # annotated with the team's own type: not the broker
            """),
        Valid("""
            def run(broker):
                broker.placeOrder(1)  # unresolved, but not named like the IB client
            """),
        Valid("""
            from app.connector import make_port
            port = make_port()
            port.send(1)
            """),
        Valid("""
            def describe(ib) -> str:
                return ib.name  # no distinctive client method
            """),
        Valid("""
            import importlib
            plugin = importlib.import_module("app.plugins.mean_reversion")
            """),
        Valid("""
            getattr(config, "cancelOrder", None)
            """),
        Valid("""
            from app.connector import open_trades
            def refs(ib) -> list:
                return [t.order.orderRef.startswith("x") for t in open_trades()]
            """),
        Valid("""
            import functools
            class Book:
                def cancelOrder(self, oms_id): ...
                def placeOrder(self, order): ...
            def wire(loop, book: Book) -> list:
                loop.call_soon(book.cancelOrder, 1)  # the team's own object
                functools.partial(book.cancelOrder, 1)
                return [book.placeOrder, book.cancelOrder]
            """),
        Valid("""
            from app.orders import OrderManager
            def wire(loop, ib: OrderManager, broker) -> None:
                loop.call_soon(ib.cancelOrder, 1)  # annotated with the team's own type
                handler = broker.placeOrder  # unresolved, not named like the IB client
            """),
        Valid(
            """
            from unittest.mock import MagicMock
            from app.connector import client
            def test_cancel() -> None:
                ib = client()
                ib.cancelOrder = MagicMock()  # a store, not a use of the broker's method
            """,
            project={"app.connector": "from ib_async import IB\ndef client() -> IB: ...\n"},
        ),
        Valid(
            """
            from app.connector import open_trade
            def status() -> str:
                trade = open_trade()  # broker data the connector hands over
                return trade.orderStatus.status
            """,
            project={
                "app.connector": "from ib_async import Trade\ndef open_trade() -> Trade: ...\n"
            },
        ),
    )

    INVALID = (
        Invalid("import ib_async\n", 1, 1),
        Invalid("from ib_insync import IB as Client\n", 1, 1),
        Invalid("import ibapi.client\n", 1, 1),
        Invalid(
            """
            import ib_async as broker
            def cancel(ib: broker.IB, order) -> None:
                ib.cancelOrder(order)
            """,
            1,
            1,
            count=2,
        ),
        Invalid(
            """
            from ib_async import *
            ib = IB()
            ib.placeOrder(Stock("AAPL", "SMART", "USD"), LimitOrder("BUY", 1, 1.5))
            """,
            1,
            1,
            count=5,
        ),
        Invalid(
            """
            from ib_insync import IB
            class Strategy:
                def __init__(self) -> None:
                    self.client = IB()
                def flatten(self) -> None:
                    self.client.reqGlobalCancel()
            """,
            1,
            1,
            count=3,
        ),
        Invalid(
            """
            from ib_insync import IB
            class Strategy:
                ib: IB
            def stop() -> None:
                Strategy.ib.reqGlobalCancel()
            """,
            1,
            1,
            count=2,
        ),
        Invalid(
            """
            from typing import Optional
            from ib_async import IB
            def on_exec(handler, ib: Optional["IB"] = None) -> None:
                ib.execDetailsEvent += handler
            """,
            2,
            1,
            count=2,
        ),
        Invalid(
            """
            import ib_async
            def connect() -> "ib_async.IB": ...
            def halt() -> None:
                connect().reqGlobalCancel()
            """,
            1,
            1,
            count=2,
        ),
        Invalid(
            """
            from ib_async import IB
            def cancel(ib: IB, order) -> None:
                getattr(ib, "cancelOrder")(order)
            """,
            1,
            1,
            count=2,
        ),
        Invalid(
            """
            import importlib
            ib_insync = importlib.import_module("ib_insync")
            """,
            2,
            13,
        ),
        Invalid('broker = __import__("ib_async")\n', 1, 10),
        Invalid(
            """
            from app.connector import Client
            Client().cancelOrder(1)
            """,
            1,
            1,
            count=2,
            project={"app.connector": "from ib_async import IB as Client\n"},
        ),
        Invalid(
            """
            from app.connector.session import _raw_client
            """,
            1,
            1,
        ),
        Invalid(
            """
            from app import connector
            connector._session.flush()
            """,
            2,
            1,
        ),
        Invalid(
            """
            class Strategy:
                def stop(self) -> None:
                    self._ib.reqGlobalCancel()
            """,
            3,
            9,
        ),
        Invalid(
            """
            async def hedge(ib_client, contract, order):
                await ib_client.whatIfOrderAsync(contract, order)
            """,
            2,
            11,
        ),
        Invalid(
            """
            import functools
            def stop(loop, ib, order) -> None:
                loop.call_soon(ib.cancelOrder, order)
                functools.partial(ib.cancelOrder, order)
            """,
            3,
            20,
            count=2,
        ),
        Invalid(
            """
            from ib_async import IB
            class Strategy:
                def __init__(self, ib: IB) -> None:
                    self.ib = ib
                    self.handlers = [self.ib.placeOrder]
                    self.fetch = self.ib.reqExecutions
                    self.stop = self.ib.disconnect
            """,
            1,
            1,
            count=4,
        ),
        Invalid(
            """
            import asyncio
            from ib_async import util
            asyncio.get_event_loop().call_soon(util.run)
            """,
            2,
            1,
            count=2,
        ),
        Invalid(
            """
            from app.connector import Session
            def halt(session: Session) -> None:
                session.client().reqGlobalCancel()
                cancel = session.client().cancelOrder
            """,
            3,
            5,
            count=2,
            project={
                "app.connector": (
                    "from ib_async import IB\nclass Session:\n    def client(self) -> IB: ...\n"
                )
            },
        ),
        Invalid(
            """
            from ibapi.client import EClient
            from ibapi.wrapper import EWrapper
            class App(EWrapper, EClient):
                def go(self, contract, order) -> None:
                    self.placeOrder(1, contract, order)
            """,
            1,
            1,
            count=3,
        ),
    )

    # ---- imports ---------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        self._naming += 1
        for alias in node.names:
            name = cst.helpers.get_full_name_for_node(alias.name) or ""
            if self.context.index.is_broker(name):
                self.report(node, f"imports the broker library `{name}`")
            elif self._connector_private(name):
                self.report(node, f"imports connector internals `{name}`")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._naming += 1
        module = self.resolver.absolute_module(node)
        if self.context.index.is_broker(module):
            self.report(node, f"imports from the broker library `{module}`")
            return
        if self._connector_private(module):
            self.report(node, f"imports connector internals `{module}`")
            return
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = cst.helpers.get_full_name_for_node(alias.name) or ""
            qual = self.context.index.canonical(f"{module}.{name}")
            if self.context.index.is_broker(qual):
                self.report(node, f"imports the broker name `{qual}` through `{module}`")
                return
            if _private(name) and self.context.index.connector_module_of(module):
                self.report(node, f"imports the connector internal `{module}.{name}`")
                return

    def _connector_private(self, module: str) -> bool:
        owner = self.context.index.connector_module_of(module)
        return owner is not None and any(_private(p) for p in module.split("."))

    # ---- uses --------------------------------------------------------------------------
    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._judged: set[int] = set()  # ids of attributes judged with the node around them
        self._naming = 0  # inside an import or an annotation

    def visit_Call(self, node: cst.Call) -> None:
        self._judged.add(id(node.func))
        name = cst.helpers.get_full_name_for_node(node.func) or ""
        if name in _DYNAMIC_IMPORTS:
            module = self.resolver.value_of(node)
            if module is not None and self.resolver.is_broker(module):
                self.report(node, f"imports the broker library `{module.qualname}` dynamically")
            return
        if name == "getattr" and len(node.args) >= 2:
            receiver = self.resolver.value_of(node.args[0].value)
            if self.resolver.is_broker(receiver):
                self.report(node, f"looks up a member of `{_shown(receiver)}` by name")
            return
        func = self.resolver.value_of(node.func)
        if self.resolver.is_broker(func):
            # A call of the team's own factory (RETURNS) is not the finding; its use is. On
            # data a broker call returned (`trade.order.orderRef.startswith`), only client
            # methods count: the data's own str/list/loop methods are not broker calls.
            derived = func is not None and "()" in func.qualname
            method = func.qualname.rsplit(".", 1)[-1] if func is not None else ""
            if (
                func is not None
                and func.kind is not Kind.RETURNS
                and not self._reported_inside(node.func)
                and (not derived or is_distinctive_client_method(method))
            ):
                self.report(node, f"calls `{_shown(func)}`")
            return
        if func is None and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            client = node.func.value
            if (
                is_distinctive_client_method(method)
                and self.resolver.value_of(client) is None
                and _looks_like_client(client)
            ):
                self.report(
                    node, f"calls `{method}` on `{terminal_name(client)}`, the broker client"
                )

    def _reported_inside(self, func: cst.BaseExpression) -> bool:
        """`getattr(ib, "x")(...)` and `IB().connect()`: the inner call is the finding."""
        inner = func.value if isinstance(func, cst.Attribute) else func
        if not isinstance(inner, cst.Call):
            return False
        if cst.helpers.get_full_name_for_node(inner.func) == "getattr":
            return True
        callee = self.resolver.value_of(inner.func)
        return (
            self.resolver.is_broker(callee)
            and callee is not None
            and callee.kind is not Kind.RETURNS
        )

    # Storing into a broker member (`ib.connect = MagicMock()` in a test) takes nothing from
    # the broker; the object's creation or import is the finding.
    def visit_Assign(self, node: cst.Assign) -> None:
        self._judged.update(id(target.target) for target in node.targets)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._judged.add(id(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        self._judged.add(id(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._judged.add(id(node.target))
        target = self.resolver.value_of(node.target)
        if self.resolver.is_broker(target):
            self.report(node, f"subscribes to the broker event `{_shown(target)}`")
        elif (
            target is None
            and isinstance(node.target, cst.Attribute)
            and node.target.attr.value.endswith("Event")
            and self.resolver.value_of(node.target.value) is None
            and _looks_like_client(node.target.value)
        ):
            self.report(node, f"subscribes to the broker event `{node.target.attr.value}`")

    # A dotted name in an import or an annotation names a module or a type: the import is
    # the finding, not each mention.
    def visit_Annotation(self, node: cst.Annotation) -> None:
        self._naming += 1

    def leave_Annotation(self, original_node: cst.Annotation) -> None:
        self._naming -= 1

    def leave_Import(self, original_node: cst.Import) -> None:
        self._naming -= 1

    def leave_ImportFrom(self, original_node: cst.ImportFrom) -> None:
        self._naming -= 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # Pre-order: a call, an augmented assignment or a longer chain is visited before this
        # attribute, so these ids say whether it is already judged as part of them.
        seen = id(node) in self._judged
        self._judged.add(id(node.value))
        if _private(node.attr.value):
            owner = self.resolver.value_of(node.value)
            if (
                owner is not None
                and owner.kind in (Kind.MODULE, Kind.SYMBOL)
                and self.context.index.connector_module_of(owner.qualname)
            ):
                self.report(node, f"reaches into the connector internal `{node.attr.value}`")
                return
        if not seen and not self._naming:
            self._check_reference(node)

    def _check_reference(self, node: cst.Attribute) -> None:
        """A broker callable taken without calling it: `call_soon(ib.cancelOrder, 1)`.

        Callables are client methods (any member of the client `IB`/`EClient`, a distinctive
        client method on any broker object) and library functions (`util.run`). Fields of
        broker data (`trade.orderStatus.status`, `OrderStatus.Filled`) are not reported:
        reading them is not reaching the broker.
        """
        method = node.attr.value
        owner = self.resolver.value_of(node.value)
        if owner is None:
            if is_distinctive_client_method(method) and _looks_like_client(node.value):
                self.report(
                    node,
                    f"refers to `{method}` of `{terminal_name(node.value)}`, the broker client",
                )
            return
        if not self.resolver.is_broker(owner) or self._reported_inside(node):
            return
        owner_name = owner.qualname.rsplit(".", 1)[-1]
        if owner.kind is Kind.INSTANCE:
            client = "()" not in owner.qualname and owner_name in _CLIENT_CLASSES
            callable_member = client or is_distinctive_client_method(method)
        else:  # a member of a library module: its functions, not its classes or constants
            callable_member = owner_name[:1].islower() and method[:1].islower()
        if callable_member:
            self.report(node, f"refers to `{owner.qualname}.{method}` without calling it")


def _shown(value: Value | None) -> str:
    return value.qualname if value is not None else "?"
