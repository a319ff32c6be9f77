"""Runs IBKR's official `ibapi` 10.x in its own interpreter (it is the same top-level module as
the 9.81 in the dev venv, so it cannot be imported next to it). Standard library + ibapi only:
started as ``python -S ibapi10_driver.py <command>`` with the 10.x directory on PYTHONPATH.

Commands (JSON on stdin, JSON on stdout):
- ``version``: ``{"version": ibapi.__version__, "max_client_version": MAX_CLIENT_VER, ...}``.
- ``decode``: ``{"frames": [[server_version, [field, ...]], ...]}`` -> one result per frame,
  ``{"calls": [[method, [args]]], "problems": [...]}``. Each frame goes through the path the
  client's own reader loop takes below server version 201 (payload split at the first NUL
  for the message id, ``comm.read_fields``, ``Decoder.interpret``); every EWrapper call is
  checked against the real EWrapper signature and recorded with its arguments as plain data.
- ``session``: ``{"port": p, "client_id": c}`` -> what an EClient/EWrapper app saw while it
  connected to the gateway, asked for contract details, placed an order and streamed quotes.
- ``tour``: the same, for the other requests a bot makes (positions, orders, account, executions,
  history, lookups, snapshot, tick-by-tick, bars, an unknown contract, a modify and a cancel).
- ``serve``: ``{"port": p, "client_id": c}``, then one JSON request per line, one JSON answer
  per line: an EClient app driven call by call by the test (`ibapi_apps.Remote10`).
  ``{"call": method, "args": [...]}`` calls the app's EClient method (objects given as
  ``{"$new": "Contract", "fields": {...}}``, see `build`); ``{"since": n}`` answers the EWrapper
  calls recorded from the n-th on; ``{"close": true}`` disconnects and ends.
"""

from __future__ import annotations

import enum
import inspect
import json
import logging
import sys
import threading
import time
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """A wrapper argument as JSON data: Decimals tagged, objects as their public attributes."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "__dict__"):
        attrs = {k: plain(v) for k, v in vars(value).items() if not k.startswith("_")}
        return {"$type": type(value).__name__, **attrs}
    return repr(value)


class Recorder:
    """Stands in for the app's EWrapper: binds each call to the real signature, records it."""

    def __init__(self) -> None:
        from ibapi.wrapper import EWrapper

        self.calls: list[list[Any]] = []
        self._real = EWrapper

    def __getattr__(self, name: str) -> Any:
        signature = inspect.signature(getattr(self._real, name))

        def record(*args: Any) -> None:
            signature.bind(self, *args)
            self.calls.append([name, plain(list(args))])

        return record


class Problems(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.found.append(record.getMessage())


def decode(request: dict[str, Any]) -> list[dict[str, Any]]:
    from ibapi import comm
    from ibapi.decoder import Decoder

    problems = Problems()
    logging.getLogger("ibapi").addHandler(problems)
    results = []
    for version, fields in request["frames"]:
        recorder = Recorder()
        decoder = Decoder(recorder, int(version))
        problems.found = []
        text = ("\0".join(fields) + "\0").encode("utf-8")
        try:
            msg_id = int(text[: text.index(b"\0")])
            decoder.interpret(comm.read_fields(text[text.index(b"\0") + 1 :]), msg_id)
        except Exception as exc:  # the decoder raises what it cannot read
            problems.found.append(f"raised {exc!r}")
        results.append({"calls": recorder.calls, "problems": problems.found})
    return results


def session(request: dict[str, Any]) -> dict[str, Any]:
    """An official-client app: connect, contract details, a limit order, streaming quotes."""
    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.order import Order
    from ibapi.wrapper import EWrapper

    seen: list[list[Any]] = []
    done = {name: threading.Event() for name in ("nextValidId", "contractDetailsEnd", "order")}
    quotes = threading.Event()

    class App(EWrapper, EClient):  # type: ignore[misc]
        def __init__(self) -> None:
            EWrapper.__init__(self)
            EClient.__init__(self, self)

    def recording(name: str) -> Any:
        def method(self: Any, *args: Any) -> None:
            seen.append([name, plain(list(args))])
            if name in done:
                done[name].set()
            if name == "orderStatus" and args[1] in ("Submitted", "Filled"):
                done["order"].set()
            if name == "tickPrice" and sum(c[0] == "tickPrice" for c in seen) >= 2:
                quotes.set()

        return method

    for name in (
        "nextValidId", "managedAccounts", "error", "contractDetails", "contractDetailsEnd",
        "openOrder", "orderStatus", "execDetails", "commissionAndFeesReport", "tickPrice",
        "tickSize", "tickString", "tickReqParams", "marketDataType", "tickSnapshotEnd",
    ):  # fmt: skip
        setattr(App, name, recording(name))

    app = App()
    app.connect("127.0.0.1", int(request["port"]), int(request["client_id"]))
    reader = threading.Thread(target=app.run, daemon=True)
    reader.start()
    steps: dict[str, bool] = {"connected": done["nextValidId"].wait(10)}
    server_version = app.serverVersion()
    contract = Contract()
    contract.symbol, contract.secType, contract.exchange = "AAPL", "STK", "SMART"
    contract.currency = "USD"
    app.reqContractDetails(1, contract)
    steps["contractDetails"] = done["contractDetailsEnd"].wait(10)
    order = Order()
    order.action, order.orderType, order.tif = "BUY", "LMT", "DAY"
    order.totalQuantity, order.lmtPrice = Decimal(10), float(request.get("limit", 1000))
    order_id = next(c[1][0] for c in seen if c[0] == "nextValidId")
    app.placeOrder(order_id, contract, order)
    steps["order"] = done["order"].wait(10)
    app.reqMktData(2, contract, "", False, False, [])
    steps["quotes"] = quotes.wait(10)
    app.cancelMktData(2)
    time.sleep(0.2)
    app.disconnect()
    reader.join(5)
    return {"server_version": server_version, "steps": steps, "calls": seen}


class Tour:
    """An EClient app that records every EWrapper call and can wait for one."""

    def __init__(self, port: int, client_id: int) -> None:
        from ibapi.client import EClient
        from ibapi.wrapper import EWrapper

        self.seen: list[list[Any]] = []
        self.changed = threading.Condition()
        tour = self

        class App(EWrapper, EClient):  # type: ignore[misc]
            def __init__(self) -> None:
                EWrapper.__init__(self)
                EClient.__init__(self, self)

            def __getattribute__(self, name: str) -> Any:
                attr = object.__getattribute__(self, name)
                if name[:1].islower() and hasattr(EWrapper, name) and not hasattr(EClient, name):

                    def record(*args: Any) -> None:
                        with tour.changed:
                            tour.seen.append([name, plain(list(args))])
                            tour.changed.notify_all()

                    return record
                return attr

        self.app = App()
        self.app.connect("127.0.0.1", port, client_id)
        self.reader = threading.Thread(target=self.app.run, daemon=True)
        self.reader.start()

    def wait(self, name: str, first: Any = None, timeout: float = 10) -> bool:
        """Until a call `name` (whose first argument is `first`, when given) has arrived."""

        def arrived() -> bool:
            return any(c[0] == name and (first is None or c[1][:1] == [first]) for c in self.seen)

        with self.changed:
            return self.changed.wait_for(arrived, timeout)

    def close(self) -> None:
        self.app.disconnect()
        self.reader.join(5)


def tour(request: dict[str, Any]) -> dict[str, Any]:
    """The requests a bot makes at startup and while trading, each awaited by its answer."""
    from ibapi.contract import Contract
    from ibapi.execution import ExecutionFilter
    from ibapi.order import Order
    from ibapi.order_cancel import OrderCancel

    def stock(symbol: str) -> Contract:
        c = Contract()
        c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", "SMART", "USD"
        return c

    t = Tour(int(request["port"]), int(request["client_id"]))
    app, steps = t.app, {}
    steps["connected"] = t.wait("nextValidId")
    app.reqPositions()
    steps["positions"] = t.wait("positionEnd")
    app.reqOpenOrders()
    steps["openOrders"] = t.wait("openOrderEnd")
    app.reqCompletedOrders(False)
    steps["completedOrders"] = t.wait("completedOrdersEnd")
    app.reqAccountUpdates(True, "")
    steps["accountUpdates"] = t.wait("accountDownloadEnd")
    app.reqAccountSummary(9, "All", "NetLiquidation,TotalCashValue")
    steps["accountSummary"] = t.wait("accountSummaryEnd", 9)
    app.reqExecutions(10, ExecutionFilter())
    steps["executions"] = t.wait("execDetailsEnd", 10)
    app.reqHistoricalData(11, stock("AAPL"), "", "1 M", "1 day", "TRADES", 1, 1, False, [])
    steps["history"] = t.wait("historicalDataEnd", 11)
    app.reqHeadTimeStamp(12, stock("AAPL"), "TRADES", 1, 1)
    steps["headTimestamp"] = t.wait("headTimestamp", 12)
    app.reqMatchingSymbols(13, "AAP")
    steps["matchingSymbols"] = t.wait("symbolSamples", 13)
    app.reqSecDefOptParams(14, "AAPL", "", "STK", 265598)
    steps["optionParameters"] = t.wait("securityDefinitionOptionParameterEnd", 14)
    app.reqMktData(15, stock("AAPL"), "", True, False, [])
    steps["snapshot"] = t.wait("tickSnapshotEnd", 15)
    app.reqMarketDataType(3)  # delayed: answered per subscription, not by itself
    app.reqMktData(19, stock("AAPL"), "", True, False, [])
    steps["delayedSnapshot"] = t.wait("tickSnapshotEnd", 19)
    app.reqTickByTickData(16, stock("AAPL"), "BidAsk", 0, False)
    app.reqRealTimeBars(17, stock("AAPL"), 5, "MIDPOINT", False, [])
    app.reqContractDetails(18, stock("ZZZZ"))
    steps["unknownContract"] = t.wait("error", 18)
    order = Order()
    order.action, order.orderType, order.tif = "BUY", "LMT", "DAY"
    order.totalQuantity, order.lmtPrice = Decimal(5), 1.0  # far below the market: rests
    order_id = next(c[1][0] for c in t.seen if c[0] == "nextValidId")
    app.placeOrder(order_id, stock("AAPL"), order)
    steps["placed"] = t.wait("openOrder", order_id)
    order.lmtPrice = 2.0
    app.placeOrder(order_id, stock("AAPL"), order)  # a modify: same id, new price
    with t.changed:
        steps["modified"] = t.changed.wait_for(
            lambda: any(c[0] == "openOrder" and c[1][2].get("lmtPrice") == 2.0 for c in t.seen), 10
        )
    app.cancelOrder(order_id, OrderCancel())
    with t.changed:
        steps["cancelled"] = t.changed.wait_for(
            lambda: ["orderStatus", order_id, "Cancelled"] in [[c[0], *c[1][:2]] for c in t.seen],
            10,
        )
    for cancel, req_id in ((app.cancelTickByTickData, 16), (app.cancelRealTimeBars, 17)):
        cancel(req_id)
    app.reqCurrentTime()
    steps["currentTime"] = t.wait("currentTime")
    t.close()
    return {"order_id": order_id, "steps": steps, "calls": t.seen}


# The request objects a test may build, by class name: module of the official client.
BUILDABLE = {
    "Contract": "ibapi.contract",
    "ComboLeg": "ibapi.contract",
    "Order": "ibapi.order",
    "OrderCancel": "ibapi.order_cancel",
    "ExecutionFilter": "ibapi.execution",
    "TagValue": "ibapi.tag_value",
}


def build(value: Any) -> Any:
    """A request argument from JSON data: Decimals, and objects of the client's own classes
    with only attributes that class has (an attribute the client lacks is never sent: fail)."""
    import importlib

    if isinstance(value, list):
        return [build(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$decimal" in value:
        return Decimal(value["$decimal"])
    if "$new" in value:
        name = value["$new"]
        obj = getattr(importlib.import_module(BUILDABLE[name]), name)()
        for key, field in value["fields"].items():
            if not hasattr(obj, key):
                raise AttributeError(f"this ibapi's {name} has no attribute {key!r}")
            setattr(obj, key, build(field))
        return obj
    return {k: build(v) for k, v in value.items()}


def serve(request: dict[str, Any]) -> None:
    """Serve one app to the test, line by line, until it says close (or stdin ends)."""
    t = Tour(int(request["port"]), int(request["client_id"]))
    t.wait("nextValidId")
    answer: dict[str, Any] = {"server_version": t.app.serverVersion()}
    while True:
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            break
        asked = json.loads(line)
        if "since" in asked:
            with t.changed:
                answer = {"calls": t.seen[int(asked["since"]) :]}
        elif "call" in asked:
            try:
                getattr(t.app, asked["call"])(*build(asked["args"]))
                answer = {"ok": True}
            except Exception as exc:  # the test shows what the client refused
                answer = {"raised": repr(exc)}
        else:
            break
    t.app.disconnect()
    # the answer to close; 10.x's reader thread may take a second more to notice (its socket
    # timeout), so the test ends this process once it has read this line
    sys.stdout.write(json.dumps({"closed": True}) + "\n")
    sys.stdout.flush()


def version() -> dict[str, Any]:
    import ibapi
    from ibapi import server_versions

    return {
        "version": ibapi.__version__
        if hasattr(ibapi, "__version__")
        else ibapi.get_version_string(),
        "min_client_version": server_versions.MIN_CLIENT_VER,
        "max_client_version": server_versions.MAX_CLIENT_VER,
        "path": ibapi.__file__,
    }


def main() -> None:
    command = sys.argv[1]
    request = {} if command == "serve" else json.loads(sys.stdin.read() or "{}")
    if command == "decode":
        answer: Any = decode(request)
    elif command == "session":
        answer = session(request)
    elif command == "tour":
        answer = tour(request)
    elif command == "serve":
        serve(json.loads(sys.stdin.readline()))
        return
    else:
        answer = version()
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
