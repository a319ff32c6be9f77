"""BOUNDARY-02: engine code bypasses the connector (CASES.md BOUNDARY-02).

Owns the judgement "this engine expression touches the broker library". What a name refers to
comes from `resolution`; this module only decides which resolved uses are findings.
"""

from __future__ import annotations

from typing import Final

import libcst as cst
from ibguard.rules.base import FileContext, Invalid, Rule, Target, Valid
from ibguard.rules.broker_api import is_distinctive_client_method
from ibguard.rules.broker_model import client_method_names
from ibguard.rules.names import terminal_name, words
from ibguard.rules.values import Kind, Role, Value

__all__ = ["EngineBypassesConnector"]

# Words that make an unresolved receiver look like the broker client.
_CLIENT_WORDS: Final = frozenset({"ib", "ibkr", "tws", "ibapi", "eclient"})
# Words that may follow them in a name that still means just the client (`ib_conn`).
_CLIENT_SUFFIXES: Final = frozenset(
    {"client", "conn", "connection", "api", "app", "gateway", "insync", "async", "session"}
)
# Calls of these are broker calls whatever the method is called.
_CALLED: Final = frozenset(
    {Role.FUNCTION, Role.CLASS, Role.CLIENT_METHOD, Role.EVENT_METHOD, Role.UNTYPED}
)
# Taken without a call, these are broker callables.
_REFERENCED: Final = frozenset({Role.FUNCTION, Role.CLIENT_METHOD})
# Values the library returns or holds: only distinctive client methods on them count.
_DATA_LIKE: Final = frozenset({Role.DATA_METHOD, Role.DERIVED})
# `getattr(x, name)` with a computed name reaches the broker on these.
_DYNAMIC_RECEIVERS: Final = frozenset({Role.CLIENT, Role.MODULE, Role.UNTYPED})
_DYNAMIC_IMPORTS: Final = frozenset({"importlib.import_module", "import_module", "__import__"})


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _callable(role: Role, method: str) -> bool:
    """Is calling a value of this role (named `method`) a call of the broker?"""
    return role in _CALLED or (role in _DATA_LIKE and is_distinctive_client_method(method))


def _looks_like_client(receiver: cst.BaseExpression) -> bool:
    return bool(_CLIENT_WORDS.intersection(words(terminal_name(receiver))))


def _named_client(receiver: cst.BaseExpression) -> bool:
    """Named as the client and nothing else: `ib`, `self._ib`, `ib_conn`, `ibkr_client` (not
    `ib_config`)."""
    said = set(words(terminal_name(receiver)))
    return bool(said & _CLIENT_WORDS) and said <= _CLIENT_WORDS | _CLIENT_SUFFIXES


class EngineBypassesConnector(Rule):
    """Engine code must reach the broker only through the connector's port.

    Reports, in engine files: imports of a broker library (`ib_async`, `ib_insync`, `ibapi`, or
    the configured `broker-libraries`), also through a project module that re-exports it;
    dynamic imports (`importlib.import_module("ib_insync")`, `__import__`); calls of the broker
    library's functions and classes (`util.run()`, `IB()`, `LimitOrder(...)`); calls of any
    method of a broker client (`ib.cancelOrder()`, `self.ib.placeOrder()`,
    `ib.client.reqGlobalCancel()`, `self.reqMktData()` in an `EClient` subclass,
    `getattr(ib, "cancelOrder")`); client methods and library functions taken without a call
    (`loop.call_soon(ib.cancelOrder, 1)`, `[ib.placeOrder]`, `cb = util.run`); event
    subscriptions (`ib.execDetailsEvent += handler`, `trade.statusEvent.connect(handler)`); and
    private names of connector modules.

    What a broker value is comes from the broker library itself (`broker_model`): the
    annotations of ib_async / ib_insync (dataclass fields, method return types) and the
    classes of `ibapi`, read from the installed package (or from the table committed for the
    version it was generated from). Broker data (`Trade`, `PortfolioItem`, `Contract`) and
    the plain values it holds (`pos.contract.right` is a str, `item.position` a float,
    `util.df(bars)` a DataFrame) are data: reading them, or calling their methods, is not a
    broker call; only a distinctive IB client method on them is (`placeOrder`, `req...`).
    Receivers are resolved through aliases, star imports, `x = IB()`, `self.x`, parameters,
    attributes and return values annotated with broker types, unannotated project functions
    by what they return (`return IB()`), attributes and methods inherited from base classes
    in any project module (`ib: ClassVar[IB]` on a base), the client layer (`ib.client`),
    unannotated parameters by what the project's calls pass (`Strategy(ib)` in `main.py`,
    `Thread(target=run_loop, args=(ib,))`), unannotated functions of this module by what
    they return, and script-style imports (`from connection import initiate` naming
    `market/connection/initiate.py`). When a receiver cannot be resolved, a distinctive IB
    client method (`placeOrder`, `req...`) is reported when the project does not define a
    method of that name itself or the receiver is named like the client (`ib`, `self._ib`,
    `ib_client`, `tws`), and any IB client method (`ib.sleep()`, `ib.disconnect()`) on a
    receiver named only as the client (`ib`, `ib_conn`). Broker classes bound with
    `functools.partial(Order, ...)` are reported as references.
    """

    id = "BOUNDARY-02"
    MESSAGE = "engine code bypasses the connector"
    TARGET = Target.ENGINE
    CANNOT = (
        "Objects passed in without a broker annotation and not named like the client, "
        "when the project defines a method of the same name itself (`def f(x): "
        "x.placeOrder()` next to the team's own `placeOrder`), or when the method is not a "
        "distinctive IB name (`def f(x): x.disconnect()`); broker classes passed as values "
        "other than to `partial`; broker objects hidden in the project's own containers "
        "(`self.clients[0]`, `contract_dict[kind](...)`); arguments another module passes "
        "that are not built there by a call (`Strategy(make().ib)`); what a function of "
        "another module returns when it has no annotation and its `return` is not a call, "
        "a name assigned from a call, or `self.x`; "
        "values the broker library leaves untyped (ibapi's `EClient` methods, `util.df`): "
        "only distinctive client methods on them count; methods of broker data "
        "(`trade.isDone()`, `ticker.marketPrice()`) are treated as data; "
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
        Valid(
            """
            def run(broker):
                broker.placeOrder(1)  # unresolved, but the project has its own placeOrder
            """,
            project={"app.orders": "class OrderManager:\n    def placeOrder(self, order): ...\n"},
        ),
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
        Valid(
            """
            from app.orders import OrderManager
            def wire(loop, ib: OrderManager, broker) -> None:
                loop.call_soon(ib.cancelOrder, 1)  # annotated with the team's own type
                handler = broker.placeOrder  # unresolved; the project has its own placeOrder
            """,
            project={"app.orders": "class OrderManager:\n    def placeOrder(self, order): ...\n"},
        ),
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
        Valid(
            """
            from app.connector import first_item
            def describe() -> bool:
                item = first_item()  # broker data: its fields are plain values
                qty = item.position  # a float, as PortfolioItem says
                call = item.contract.right.startswith("C")  # a str
                symbol = getattr(item.contract, "symbol", None)  # reading a field by name
                return qty.is_integer() and call and symbol is not None
            """,
            project={
                "app.connector": (
                    "from ib_async import PortfolioItem\ndef first_item() -> PortfolioItem: ...\n"
                )
            },
        ),
        Valid(
            """
            from app.connector import Session
            def refs(session: Session) -> list:
                # what the connector returns, iterated: Trade, Order, str
                return [t.order.orderRef.upper() for t in session.trades()]
            """,
            project={
                "app.connector": (
                    "from ib_async import Trade\n"
                    "class Session:\n"
                    "    def trades(self) -> list[Trade]: ...\n"
                )
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
        Invalid(
            """
            from ib_async import util
            def frame(bars):
                return util.df(bars).set_index("date")  # util.df is the call; set_index is pandas
            """,
            1,
            1,
            count=2,
        ),
        Invalid(
            """
            from app.runtime import Base
            class Strategy(Base):
                def go(self, contract, order) -> None:
                    self.ib.placeOrder(contract, order)  # `ib: ClassVar[IB]` on the base
                    self.session().reqGlobalCancel()  # an inherited, unannotated method
            """,
            4,
            9,
            count=2,
            project={
                "app.runtime": (
                    "from typing import ClassVar\n"
                    "from ib_async import IB\n"
                    "class Base:\n"
                    "    ib: ClassVar[IB]\n"
                    "    def __init__(self):\n"
                    "        self._session = IB()\n"
                    "    def session(self):\n"
                    "        return self._session\n"
                )
            },
        ),
        Invalid(
            """
            from app.runtime import Api
            class Strategy(Api):
                def go(self, contract) -> None:
                    self.reqMktData(1, contract, "", False, False, [])
                    self.handlers = [self.cancelOrder]
            """,
            4,
            9,
            count=2,
            project={
                "app.runtime": (
                    "from ibapi.client import EClient\n"
                    "from ibapi.wrapper import EWrapper\n"
                    "class Api(EWrapper, EClient):\n"
                    "    def __init__(self):\n"
                    "        EClient.__init__(self, self)\n"
                )
            },
        ),
        Invalid(
            """
            from app.runtime import connect_to_IB
            class Strategy:
                def __init__(self) -> None:
                    self.ib = connect_to_IB("127.0.0.1")  # returns IB(), unannotated
                def stop(self) -> None:
                    self.ib.reqGlobalCancel()
            """,
            6,
            9,
            project={
                "app.runtime": (
                    "from ib_insync import IB\n"
                    "def connect_to_IB(host):\n"
                    "    ib = IB()\n"
                    "    ib.connect(host)\n"
                    "    return ib\n"
                )
            },
        ),
        Invalid(
            """
            from app.connector import Broker
            class Strategy:
                def __init__(self, broker: Broker) -> None:
                    self.broker = broker
                def stop(self, order) -> None:
                    self.broker.ib.client.cancelOrder(order)
                    self.broker.ib.client.reqGlobalCancel()
                    c = self.broker.ib.client
                    c.cancelOrder(order)
            """,
            6,
            9,
            count=3,
            project={
                "app.connector": (
                    "from ib_async import IB\n"
                    "class Broker:\n"
                    "    def __init__(self) -> None:\n"
                    "        self.ib = IB()\n"
                )
            },
        ),
        Invalid(
            """
            from ib_async import IB
            def halt(ib: IB, handler) -> None:
                ib.client.reqGlobalCancel()
                trade = ib.openTrades()[0]
                trade.filledEvent += handler  # an event of broker data
                trade.statusEvent.connect(handler)
                trade.isDone()  # a method of broker data: not a broker call
            """,
            1,
            1,
            count=5,
        ),
        Invalid(
            """
            def log_trade(trade, ib=None) -> None:
                ib.sleep(1)  # an IB client method on a parameter named as the client
            """,
            2,
            5,
        ),
        Invalid(
            """
            import functools
            from ib_async import Order
            make = functools.partial(Order, action="BUY")  # the class, bound for later
            """,
            2,
            1,
            count=2,
        ),
        Invalid(
            """
            from connection import initiate
            ib = initiate.initiate_ib(4002)  # a script-style import of market/connection
            ib.disconnect()
            """,
            3,
            1,
            project={
                "market.connection.initiate": (
                    "from ib_async import IB\n"
                    "def initiate_ib(port):\n"
                    "    ib = IB()\n"
                    "    return ib\n"
                )
            },
        ),
        Invalid(
            """
            import threading
            from ib_async import IB
            class Algo:
                def __init__(self, client) -> None:
                    self.client = client
                def bars(self, contract):
                    return self.client.reqHistoricalData(contract, "", "1 D", "1 hour", "", True)
            def run_loop(client) -> None:
                client.run()  # what this module passes: an IB
            def main(contract) -> None:
                ib = IB()
                threading.Thread(target=run_loop, args=(ib,)).start()
                Algo(ib).bars(contract).updateEvent += print  # unannotated, returns the bars
            """,
            2,
            1,
            count=5,
        ),
        Invalid(
            """
            class Strategy:
                def __init__(self, broker) -> None:
                    self.broker = broker  # app.main passes an IB
                def exposure(self) -> list:
                    return self.broker.positions()
            """,
            5,
            16,
            project={
                "app.main": (
                    "from ib_async import IB\n"
                    "from app.engine.strategy import Strategy\n"
                    "ib = IB()\n"
                    "Strategy(ib)\n"
                )
            },
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
        self._call_findings: dict[int, str | None] = {}
        self._naming = 0  # inside an import or an annotation

    def visit_Call(self, node: cst.Call) -> None:
        self._judged.add(id(node.func))
        finding = self._call_finding(node)
        if finding is not None and not self._reported_inside(node.func):
            self.report(node, finding)
        partial = (cst.helpers.get_full_name_for_node(node.func) or "").endswith("partial")
        for position, arg in enumerate(node.args):
            if isinstance(arg.value, cst.Name):
                self._check_name_argument(arg.value, bound=partial and position == 0)

    def _check_name_argument(self, name: cst.Name, *, bound: bool) -> None:
        """A broker function or client method passed on (`call_soon(run)`), or a broker
        class bound for later construction (`partial(Order, action="BUY")`). A class passed
        anywhere else (`isinstance(x, Trade)`) is a use of the type, not of the broker."""
        value = self.resolver.value_of(name)
        role = self.resolver.role(value)
        if role in _REFERENCED or (bound and role is Role.CLASS):
            self.report(name, f"refers to `{_shown(value)}` without calling it")

    def _call_finding(self, node: cst.Call) -> str | None:
        """What is wrong with this call, or None. Memoised: an outer call asks about its
        inner one (`IB().connect()`: only `IB()` is the finding)."""
        key = id(node)
        if key not in self._call_findings:
            self._call_findings[key] = self._judge_call(node)
        return self._call_findings[key]

    def _judge_call(self, node: cst.Call) -> str | None:
        name = cst.helpers.get_full_name_for_node(node.func) or ""
        if name in _DYNAMIC_IMPORTS:
            module = self.resolver.value_of(node)
            if module is not None and self.resolver.is_broker(module):
                return f"imports the broker library `{module.qualname}` dynamically"
            return None
        if name == "getattr" and len(node.args) >= 2:
            receiver = self.resolver.value_of(node.args[0].value)
            attr = node.args[1].value
            if isinstance(attr, cst.SimpleString) and isinstance(attr.evaluated_value, str):
                # Reading a field of broker data by name is reading data; a method is not.
                member = self.resolver.value_of(node)
                looked_up = _callable(self.resolver.role(member), attr.evaluated_value)
            else:
                looked_up = self.resolver.role(receiver) in _DYNAMIC_RECEIVERS
            if looked_up:
                return f"looks up a member of `{_shown(receiver)}` by name"
            return None
        func = self.resolver.value_of(node.func)
        role = self.resolver.role(func)
        if role is not Role.NONE:
            method = func.qualname.rsplit(".", 1)[-1] if func is not None else ""
            if func is not None and func.kind is not Kind.RETURNS and _callable(role, method):
                return f"calls `{_shown(func)}` ({role.value})"
            return None
        if func is None and isinstance(node.func, cst.Attribute):
            called = node.func.attr.value
            target = node.func.value
            if self._unresolved_client_member(target, called):
                return f"calls `{called}` on `{terminal_name(target)}`, the broker client"
        return None

    def _unresolved_client_member(self, receiver: cst.BaseExpression, method: str) -> bool:
        """On a receiver that cannot be resolved: a distinctive IB client method the project
        does not define itself, or one on a receiver named like the client (`ib`,
        `self._ib`, `ib_client`); any IB client method on a receiver named only so (`ib`,
        `ib_conn`: `ib.sleep()`, `ib.disconnect()`)."""
        if self.resolver.value_of(receiver) is not None:
            return False
        if is_distinctive_client_method(method):
            return _looks_like_client(receiver) or not self.context.index.defines(method)
        return _named_client(receiver) and method in client_method_names(
            self.context.index.broker_libraries
        )

    def _reported_inside(self, func: cst.BaseExpression) -> bool:
        """`getattr(ib, "x")(...)` and `IB().connect()`: the inner call is the finding."""
        inner = func.value if isinstance(func, cst.Attribute) else func
        return isinstance(inner, cst.Call) and self._call_finding(inner) is not None

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
        role = self.resolver.role(target)
        attr = node.target.attr.value if isinstance(node.target, cst.Attribute) else ""
        if role is Role.EVENT or (
            role in (Role.UNTYPED, Role.DERIVED, Role.CLIENT_METHOD) and attr.endswith("Event")
        ):
            self.report(node, f"subscribes to the broker event `{_shown(target)}`")
        elif (
            target is None
            and attr.endswith("Event")
            and isinstance(node.target, cst.Attribute)
            and self.resolver.value_of(node.target.value) is None
            and _looks_like_client(node.target.value)
        ):
            self.report(node, f"subscribes to the broker event `{attr}`")

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

        Callables are client methods (any member of the client `IB`/`Client`/`EClient`, a
        distinctive client method on any broker object) and library functions (`util.run`).
        Fields of broker data (`trade.orderStatus.status`, `OrderStatus.Filled`) are not
        reported: reading them is not reaching the broker.
        """
        method = node.attr.value
        owner = self.resolver.value_of(node.value)
        if owner is None:
            if self._unresolved_client_member(node.value, method):
                self.report(
                    node,
                    f"refers to `{method}` of `{terminal_name(node.value)}`, the broker client",
                )
            return
        if self._reported_inside(node):
            return
        value = self.resolver.value_of(node)
        role = self.resolver.role(value)
        if (
            role in _REFERENCED
            or (role in _DATA_LIKE and is_distinctive_client_method(method))
            or (
                role is Role.UNTYPED
                and owner.kind in (Kind.MODULE, Kind.SYMBOL)
                and owner.qualname.rsplit(".", 1)[-1][:1].islower()
                and method[:1].islower()
            )
        ):
            self.report(node, f"refers to `{_shown(value)}` without calling it")


def _shown(value: Value | None) -> str:
    return value.qualname if value is not None else "?"
