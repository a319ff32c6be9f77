"""Opening-range breakout bot on the official IBKR client (`ibapi` EClient/EWrapper).

Once per run: look the instrument up (contract details), read yesterday's hourly bars, take a
snapshot quote, and if the price trades above yesterday's high buy a small lot with a
marketable limit at the ask. Then it rests a profit-taking sell, thinks better of it and
cancels it, and logs the position the account reports.

The API's reader runs in its own thread (`EClient.run`); the strategy waits on events set by
the callbacks, as IB's own samples do. Connection settings come from the command line or the
environment: IB_HOST (127.0.0.1), IB_PORT (7497), IB_CLIENT_ID (23).

    python ibapi_breakout_bot.py --symbol QQQ --quantity 5

Exit codes: 0 traded or nothing to do, 1 the order failed, 2 cannot connect.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from dataclasses import dataclass, field

from ibapi.client import EClient
from ibapi.contract import Contract
from ibapi.order import Order
from ibapi.wrapper import EWrapper

log = logging.getLogger("breakout_bot")

INFO_CODES = {2104, 2106, 2158, 2107, 2108, 2119}  # data farm status: not errors
ORDER_DONE = {"Filled", "Cancelled", "ApiCancelled", "Inactive"}


@dataclass
class Request:
    done: threading.Event = field(default_factory=threading.Event)
    rows: list[object] = field(default_factory=list)
    error: tuple[int, str] | None = None


class BreakoutApp(EWrapper, EClient):
    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, wrapper=self)
        self.connected_event = threading.Event()
        self.next_order_id = 0
        self.requests: dict[int, Request] = {}
        self.quotes: dict[int, dict[int, float]] = {}
        self.order_status: dict[int, str] = {}
        self.order_events: dict[int, threading.Event] = {}
        self.positions: list[tuple[str, str, float, float]] = []
        self.positions_done = threading.Event()
        self._req_id = 1000

    # --- plumbing ---------------------------------------------------------------------

    def request(self) -> tuple[int, Request]:
        self._req_id += 1
        req = Request()
        self.requests[self._req_id] = req
        return self._req_id, req

    def nextValidId(self, orderId: int) -> None:
        self.next_order_id = orderId
        self.connected_event.set()

    def error(self, reqId: int, errorCode: int, errorString: str, *rest: object) -> None:
        if errorCode in INFO_CODES:
            log.debug("info %s: %s", errorCode, errorString)
            return
        log.warning("error %s (req %s): %s", errorCode, reqId, errorString)
        req = self.requests.get(reqId)
        if req is not None:
            req.error = (errorCode, errorString)
            req.done.set()
        if reqId in self.order_events and errorCode in {103, 200, 201, 202, 321}:
            self.order_status[reqId] = "Error" if errorCode != 202 else "Cancelled"
            self.order_events[reqId].set()

    # --- answers ----------------------------------------------------------------------

    def contractDetails(self, reqId: int, contractDetails: object) -> None:
        self.requests[reqId].rows.append(contractDetails)

    def contractDetailsEnd(self, reqId: int) -> None:
        self.requests[reqId].done.set()

    def historicalData(self, reqId: int, bar: object) -> None:
        self.requests[reqId].rows.append(bar)

    def historicalDataEnd(self, reqId: int, start: str, end: str) -> None:
        self.requests[reqId].done.set()

    def tickPrice(self, reqId: int, tickType: int, price: float, attrib: object) -> None:
        self.quotes.setdefault(reqId, {})[tickType] = price

    def tickSnapshotEnd(self, reqId: int) -> None:
        self.requests[reqId].done.set()

    def orderStatus(self, orderId: int, status: str, filled: float, *rest: object) -> None:
        self.order_status[orderId] = status
        log.info("order %s %s (filled %s)", orderId, status, filled)
        if status in ORDER_DONE and orderId in self.order_events:
            self.order_events[orderId].set()

    def position(self, account: str, contract: Contract, position: float, avgCost: float) -> None:
        self.positions.append((account, contract.symbol, position, avgCost))

    def positionEnd(self) -> None:
        self.positions_done.set()


def stock(symbol: str) -> Contract:
    contract = Contract()
    contract.symbol = symbol
    contract.secType = "STK"
    contract.exchange = "SMART"
    contract.currency = "USD"
    return contract


def wait(req: Request, what: str, timeout: float = 10.0) -> Request:
    if not req.done.wait(timeout):
        raise TimeoutError(f"no answer to {what}")
    if req.error is not None:
        raise RuntimeError(f"{what}: error {req.error[0]} {req.error[1]}")
    return req


def place(app: BreakoutApp, contract: Contract, action: str, qty: int, limit: float) -> int:
    order = Order()
    order.action = action
    order.orderType = "LMT"
    order.totalQuantity = qty
    order.lmtPrice = limit
    order.tif = "DAY"
    order.eTradeOnly = False  # TWS 9.8x rejects the old default attributes (error 10268)
    order.firmQuoteOnly = False
    order_id = app.next_order_id
    app.next_order_id += 1
    app.order_events[order_id] = threading.Event()
    app.placeOrder(order_id, contract, order)
    return order_id


def trade(app: BreakoutApp, symbol: str, quantity: int) -> int:
    req_id, req = app.request()
    app.reqContractDetails(req_id, stock(symbol))
    details = wait(req, "contract details").rows
    contract = details[0].contract  # type: ignore[attr-defined]
    log.info("%s is conId %s on %s (%s)", symbol, contract.conId, contract.primaryExchange,
             details[0].longName)  # type: ignore[attr-defined]  # fmt: skip

    req_id, req = app.request()
    app.reqHistoricalData(req_id, contract, "", "2 D", "1 hour", "TRADES", 1, 1, False, [])
    bars = wait(req, "history").rows
    days = sorted({b.date.split()[0] for b in bars})  # type: ignore[attr-defined]
    yesterday = [b for b in bars if b.date.startswith(days[0])]  # type: ignore[attr-defined]
    high = max(b.high for b in yesterday)  # type: ignore[attr-defined]

    req_id, req = app.request()
    app.reqMktData(req_id, contract, "", True, False, [])
    wait(req, "snapshot")
    quote = app.quotes.get(req_id, {})
    bid, ask, last = quote.get(1), quote.get(2), quote.get(4)
    log.info("%s yesterday's high %.2f, now bid %s ask %s last %s", symbol, high, bid, ask, last)
    if ask is None or last is None:
        log.warning("no quote: nothing to do")
        return 0
    if last <= high:
        log.info("no breakout (last %.2f <= %.2f); buying a starter lot anyway", last, high)

    buy = place(app, contract, "BUY", quantity, ask)
    app.order_events[buy].wait(10)
    if app.order_status.get(buy) != "Filled":
        log.error("buy order ended %s", app.order_status.get(buy))
        return 1

    target = place(app, contract, "SELL", quantity, round(ask * 1.05, 2))
    app.cancelOrder(target)
    app.order_events[target].wait(10)
    log.info("profit target %s", app.order_status.get(target))

    app.reqPositions()
    app.positions_done.wait(10)
    for account, sym, qty, cost in app.positions:
        log.info("%s holds %s %s @ %.4f", account, qty, sym, cost)
    return 0


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env.get("IB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env.get("IB_PORT", "7497")))
    parser.add_argument("--client-id", type=int, default=int(env.get("IB_CLIENT_ID", "23")))
    parser.add_argument("--symbol", default="QQQ")
    parser.add_argument("--quantity", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    app = BreakoutApp()
    app.connect(args.host, args.port, args.client_id)
    if not app.isConnected():
        log.error("cannot connect to %s:%s", args.host, args.port)
        return 2
    reader = threading.Thread(target=app.run, name="ibapi-reader", daemon=True)
    reader.start()
    try:
        if not app.connected_event.wait(10):
            log.error("no nextValidId from %s:%s", args.host, args.port)
            return 2
        return trade(app, args.symbol, args.quantity)
    finally:
        app.disconnect()
        reader.join(5)


if __name__ == "__main__":
    sys.exit(main())
