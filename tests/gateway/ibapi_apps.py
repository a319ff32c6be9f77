"""One EClient/EWrapper app over either official client, so that one end-to-end test runs with
both: ibapi 9.81 in this process (`Local981`), and ibapi 10.x in its own interpreter driven
call by call over a pipe (`Remote10`, the driver's ``serve`` command).

Both record every EWrapper call as ``(name, args)`` in arrival order; `error` is recorded as
``(reqId, code, text, ...)`` for both (10.x passes errorTime second; it is dropped). Requests
take `Spec` objects (`contract`, `order`, ...) that each side builds with its own client's
classes; an attribute the client's class lacks fails the call instead of being lost.
Objects the 10.x app receives come back as namespaces with the client's attribute names and
Decimal sizes (`ibapi10._revive`)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ibguard.kit.gateway.handshake import MAX_SERVER_VERSION

from .ibapi10 import DRIVER, Ibapi10, _revive
from .ibapi10_driver import build

OFFICIAL = ["ibapi-9.81", "ibapi-10"]
# what each negotiates with an uncapped gateway: 9.81's maximum, and the gateway's own
SERVER_VERSION = {"ibapi-9.81": 157, "ibapi-10": MAX_SERVER_VERSION}
Call = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Spec:
    """A request object to build with the client's own class (`ibapi10_driver.BUILDABLE`)."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        return {"$new": self.kind, "fields": {k: _to_json(v) for k, v in self.fields.items()}}


def contract(symbol: str = "AAPL", sec_type: str = "STK", **fields: Any) -> Spec:
    base = {"symbol": symbol, "secType": sec_type, "exchange": "SMART", "currency": "USD"}
    return Spec("Contract", {**base, **fields})


def order(action: str = "BUY", quantity: int = 10, order_type: str = "LMT", **fields: Any) -> Spec:
    base = {"action": action, "totalQuantity": Decimal(quantity), "orderType": order_type}
    return Spec("Order", {**base, "tif": "DAY", **fields})


def _to_json(value: Any) -> Any:
    if isinstance(value, Spec):
        return value.wire()
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


class Recorded:
    """What both apps share: reading the recorded calls and waiting on them."""

    client: str

    def calls(self) -> list[Call]:
        raise NotImplementedError

    def of(self, name: str, req_id: int | None = None) -> list[tuple[Any, ...]]:
        return [a for n, a in self.calls() if n == name and (req_id is None or a[0] == req_id)]

    def codes(self, req_id: int) -> list[int]:
        """The error codes answered for `req_id`, in order."""
        return [int(a[1]) for a in self.of("error", req_id)]

    def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.client}: not reached; last calls {self.calls()[-6:]}")
            time.sleep(0.01)

    @property
    def next_order_id(self) -> int:
        return int(self.of("nextValidId")[0][0])


class Local981(Recorded):
    """ibapi 9.81 (the dev venv's) in a reader thread of this process."""

    client = "ibapi-9.81"

    def __init__(self, port: int, client_id: int) -> None:
        from ibapi.client import EClient
        from ibapi.wrapper import EWrapper

        seen: list[Call] = []
        lock = threading.Lock()

        class App(EWrapper, EClient):
            def __init__(self) -> None:
                EWrapper.__init__(self)
                EClient.__init__(self, wrapper=self)

            def __getattribute__(self, name: str) -> Any:
                attr = object.__getattribute__(self, name)
                if name[:1].islower() and hasattr(EWrapper, name) and not hasattr(EClient, name):

                    def record(*args: Any) -> None:
                        with lock:
                            seen.append((name, args))

                    return record
                return attr

        self._seen, self._lock = seen, lock
        self.app = App()
        self.app.connect("127.0.0.1", port, client_id)
        self._reader = threading.Thread(target=self.app.run, daemon=True)
        self._reader.start()
        # started (nextValidId), or refused: an error, or a close before anything
        self.until(lambda: any(self.of(n) for n in ("nextValidId", "error", "connectionClosed")))
        self.server_version = int(self.app.serverVersion() or 0)

    def __getattr__(self, name: str) -> Any:
        """Everything else is the EClient's own (placeOrder, reqMktData, ...)."""
        app = self.__dict__.get("app")
        if app is None:
            raise AttributeError(name)
        return getattr(app, name)

    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._seen)

    def request(self, method: str, *args: Any) -> None:
        if method == "cancelOrder":  # 9.81 has no OrderCancel argument
            args = args[:1]
        if method == "reqGlobalCancel":
            args = ()
        if method == "placeOrder":
            args = (*args[:2], _without_old_defaults(args[2]))
        getattr(self.app, method)(*build(_to_json(list(args))))

    def close(self) -> None:
        self.app.disconnect()
        self._reader.join(5)


def _without_old_defaults(spec: Spec) -> Spec:
    """9.81's Order defaults eTradeOnly and firmQuoteOnly to True, which TWS 983+ refuses
    (10268, 10269); an app clears them, unless the test sets them (10.x has neither)."""
    return Spec(spec.kind, {"eTradeOnly": False, "firmQuoteOnly": False, **spec.fields})


class Remote10(Recorded):
    """ibapi 10.x in its own interpreter (`ibapi10_driver.py serve`), one JSON line each way."""

    client = "ibapi-10"

    def __init__(self, ibapi10: Ibapi10, port: int, client_id: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(ibapi10.directory), "PYTHONNOUSERSITE": "1"}
        self._proc = subprocess.Popen(
            [sys.executable, "-S", str(DRIVER), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._seen: list[Call] = []
        hello = self._ask({"port": port, "client_id": client_id}, timeout=20)
        self.server_version = int(hello["server_version"])

    def _ask(self, message: dict[str, Any], timeout: float = 10.0) -> Any:
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(json.dumps(message) + "\n")
        stdin.flush()
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if ready else ""
        if not line:
            self._proc.kill()
            _, err = self._proc.communicate(timeout=5)
            raise AssertionError(f"ibapi 10.x driver gave no answer to {message}: {err[-2000:]}")
        return json.loads(line, object_hook=_revive)

    def calls(self) -> list[Call]:
        for name, args in self._ask({"since": len(self._seen)})["calls"]:
            # error(reqId, errorTime, code, text, json): errorTime dropped, as 9.81 has none
            kept = [args[0], *args[2:]] if name == "error" else args
            self._seen.append((name, tuple(kept)))
        return list(self._seen)

    def request(self, method: str, *args: Any) -> None:
        if method == "cancelOrder" and len(args) == 1:
            args = (*args, Spec("OrderCancel"))
        if method == "reqGlobalCancel" and not args:
            args = (Spec("OrderCancel"),)
        answer = self._ask({"call": method, "args": _to_json(list(args))})
        assert answer.get("ok"), f"ibapi 10.x {method}: {answer}"

    def close(self) -> None:
        with contextlib.suppress(AssertionError):  # it ended already
            self._ask({"close": True})  # answered once the app has disconnected
        self._proc.kill()  # rather than wait out 10.x's reader thread
        self._proc.communicate(timeout=10)


App = Local981 | Remote10


@contextmanager
def official_app(
    client: str, port: int, client_id: int, ibapi10: Ibapi10 | None = None
) -> Iterator[App]:
    """An app of `client` ("ibapi-9.81" or "ibapi-10") connected to 127.0.0.1:`port`."""
    app: App
    if client == "ibapi-10":
        assert ibapi10 is not None, "the ibapi10 fixture installs the 10.x client"
        app = Remote10(ibapi10, port, client_id)
    else:
        app = Local981(port, client_id)
    try:
        yield app
    finally:
        app.close()
