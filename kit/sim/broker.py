"""SimBroker: one simulated IBKR account behind any number of API sessions.

Owns the composition (clock, ids, security master, books, request log, script), the
sessions, the intake of every request, and the controls a case uses to make things happen
now. It is the one place that wires the parts: each is handed only what it uses. Order
handling lives in `desk.py`, snapshot requests in `queries.py`, who hears what in
`delivery.py`, the account's money in `account.py`, settings in `config.py`. Every public
method delivers the messages it produced before it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from ibguard.errors import UsageError
from ibguard.kit.sim.account import Valuer
from ibguard.kit.sim.book import Ledger, SimOrder
from ibguard.kit.sim.clock import VirtualClock
from ibguard.kit.sim.config import BrokerConfig, BrokerState, WhatIfAnswer
from ibguard.kit.sim.contracts import ContractBook, HaltMode
from ibguard.kit.sim.delivery import Delivery, Listener
from ibguard.kit.sim.desk import OrderDesk
from ibguard.kit.sim.history import HistoryDesk
from ibguard.kit.sim.history_ticks import TickHistory
from ibguard.kit.sim.ids import IdAllocator
from ibguard.kit.sim.instruments_file import build_catalog
from ibguard.kit.sim.market import Market
from ibguard.kit.sim.market_data import MarketDataDesk
from ibguard.kit.sim.messages import (
    Disconnected,
    Error,
    ManagedAccounts,
    Message,
    NextValidId,
)
from ibguard.kit.sim.observe import RequestLog
from ibguard.kit.sim.pnl import PnLDesk
from ibguard.kit.sim.queries import Queries
from ibguard.kit.sim.ratelimit import RateLimiter
from ibguard.kit.sim.script import DropConnection, Script
from ibguard.kit.sim.session import ApiSession

__all__ = ["BrokerConfig", "SimBroker", "WhatIfAnswer"]  # the settings live in config.py

log = logging.getLogger(__name__)

_FARM_STATUS = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)


class SimBroker:
    def __init__(
        self,
        config: BrokerConfig | None = None,
        *,
        clock: VirtualClock | None = None,
        script: Script | None = None,
    ) -> None:
        self.config = config or BrokerConfig()
        self.clock = clock or VirtualClock(self.config.start)
        self.script = script or Script()
        self.ids = IdAllocator()
        # the security master and the price model (market data, history; see market.py)
        start = self.config.start
        self.instruments = build_catalog(
            start.date(), files=self.config.instrument_files, anchor=start
        )
        self.market = Market(self.instruments, anchor=start)
        self.contracts = ContractBook(
            default_price=self.config.default_price,
            catalog=self.instruments,
            market=self.market if self.config.market_prices else None,
            clock=self.clock,
            create_unknown=self.config.create_unknown_contracts,
        )
        self.ledger = Ledger(keep=self.config.objects_per_archive_batch)
        self.requests = RequestLog(self.ledger.archive, keep=self.config.objects_per_archive_batch)
        self.state = BrokerState.at_start(self.config, self.clock.broker_now())
        self._sessions: dict[int, ApiSession] = {}
        self.refusing: str | None = None  # why every connect is refused (OPS-03), None: accept
        self._limiters: dict[int, RateLimiter] = {}
        valuer = Valuer(self.ledger, self.contracts, self.config)
        self.delivery = Delivery(
            self._sessions,
            master_client_id=self.config.master_client_id,
            valuer=valuer,
            clock=self.clock,
        )
        self.desk = OrderDesk(
            config=self.config,
            state=self.state,
            clock=self.clock,
            ids=self.ids,
            contracts=self.contracts,
            ledger=self.ledger,
            script=self.script,
            delivery=self.delivery,
            valuer=valuer,
        )
        self.market_data = MarketDataDesk(
            clock=self.clock,
            catalog=self.instruments,
            market=self.market,
            delivery=self.delivery,
            halted=lambda instrument: self.contracts.halted(instrument.symbol),
        )
        self.history = HistoryDesk(
            clock=self.clock,
            catalog=self.instruments,
            market=self.market,
            delivery=self.delivery,
            script=self.script,
        )
        self.tick_history = TickHistory(
            clock=self.clock, catalog=self.instruments, market=self.market, delivery=self.delivery
        )
        self.pnl = PnLDesk(
            clock=self.clock,
            ledger=self.ledger,
            valuer=valuer,
            delivery=self.delivery,
            accounts=lambda: self.state.accounts,
        )
        self.queries = Queries(
            config=self.config,
            state=self.state,
            clock=self.clock,
            ids=self.ids,
            contracts=self.contracts,
            ledger=self.ledger,
            valuer=valuer,
            delivery=self.delivery,
        )

    # --- what a case changes as it runs (kept as attributes for callers) ---------------

    @property
    def accounts(self) -> tuple[str, ...]:
        return self.state.accounts

    @property
    def what_if(self) -> WhatIfAnswer | None:
        return self.state.what_if

    @property
    def auto_match(self) -> bool:
        return self.state.auto_match

    @auto_match.setter
    def auto_match(self, value: bool) -> None:
        self.state.auto_match = value

    @property
    def day_started_at(self) -> datetime:
        return self.state.day_started_at

    @property
    def day_first_exec(self) -> int:
        return self.state.day_first_exec

    # --- sessions -----------------------------------------------------------------------

    def connect(self, client_id: int, listener: Listener) -> ApiSession:
        """startApi. A clientId already connected is refused: error 326, then closed."""
        session = ApiSession(client_id, listener, intake=self, desk=self.desk, queries=self.queries)
        self.requests.record(time=self.clock.broker_now(), client_id=client_id, request="startApi")
        if self.refusing is not None:  # the gateway is up but not logged in (OPS-03)
            session.connected = False
            self.delivery.post(session, Disconnected(reason=self.refusing), even_if_closed=True)
            self.flush()
            return session
        if client_id in self._sessions:
            text = (
                "Unable to connect as the client id is already in use. "
                "Retry with a unique client id."
            )
            session.connected = False
            refusal = Error(reqId=-1, errorCode=326, errorString=text)
            self.delivery.post(session, refusal, even_if_closed=True)
            self.delivery.post(
                session, Disconnected(reason="client id in use"), even_if_closed=True
            )
            self.flush()
            return session
        self._sessions[client_id] = session
        self._limiters[client_id] = RateLimiter(self.config.rate_limit_per_second)
        self.post(session, ManagedAccounts(accountsList=",".join(self.accounts)))
        self.post(session, NextValidId(orderId=self.ids.next_order_id(client_id)))
        if self.config.farm_status_messages:
            for code, text in _FARM_STATUS:
                self.post(session, Error(reqId=-1, errorCode=code, errorString=text))
        self.flush()
        return session

    def refuse_connections(self, reason: str | None = "not logged in") -> None:
        """From now on every connect is closed at once with no handshake answer (a gateway
        up but not logged in, OPS-03); None accepts connections again."""
        self.refusing = reason

    def sessions(self) -> tuple[ApiSession, ...]:
        return tuple(self._sessions.values())

    def session(self, client_id: int) -> ApiSession:
        return self._sessions[client_id]

    def drop(self, client_id: int, reason: str = "connection dropped") -> None:
        """The socket to this client dies (no error message, like a real drop)."""
        session = self._sessions.get(client_id)
        if session is not None:
            self._close(session, reason)
        self.flush()

    def disconnect(self, session: ApiSession) -> None:
        if self._sessions.get(session.client_id) is session:
            self._close(session, "client disconnected")
        self.flush()

    def _close(self, session: ApiSession, reason: str) -> None:
        session.connected = False
        del self._sessions[session.client_id]
        self.delivery.post(session, Disconnected(reason=reason), even_if_closed=True)
        log.info("sim session clientId=%s closed: %s", session.client_id, reason)

    def handle_request(
        self,
        session: ApiSession,
        request: str,
        action: Callable[[], None],
        *,
        order_id: int | None = None,
        order_ref: str = "",
        symbol: str = "",
        what_if: bool = False,
    ) -> None:
        """Intake of every request: lost on a dead socket, paced, recorded, then handled."""
        if not session.connected:
            raise ConnectionError(f"clientId {session.client_id} is not connected")
        drop = None
        if request in ("placeOrder", "cancelOrder") and not what_if:
            drop = self.script.take(
                DropConnection,
                symbol=symbol,
                client_id=session.client_id,
                where=lambda rule: rule.request == request,
            )
        if drop is not None and not drop.received:
            self._close(session, f"dropped before the broker received {request}")
            self.flush()
            return
        now = self.clock.broker_now()
        admitted = self._limiters[session.client_id].admit(now)
        self.requests.record(
            time=now,
            client_id=session.client_id,
            request=request,
            order_id=order_id,
            order_ref=order_ref,
            symbol=symbol,
            what_if=what_if,
            accepted=admitted,
        )
        if not admitted:
            limit = self.config.rate_limit_per_second
            text = (
                f"Max rate of messages per second has been exceeded:max={limit} rec={limit + 1} (1)"
            )
            self.post(session, Error(reqId=order_id or -1, errorCode=100, errorString=text))
        else:
            if drop is not None:
                self._close(session, f"dropped after the broker received {request}")
            action()
        self.flush()

    # --- delivery -----------------------------------------------------------------------

    def post(self, session: ApiSession, message: Message) -> None:
        self.delivery.post(session, message)

    def post_all(self, message: Message) -> None:
        self.delivery.post_all(message)

    def flush(self) -> None:
        self.delivery.flush()
        # the end of an operation: what the day finished may move to the day's archive
        self.ledger.settle()
        self.requests.settle()

    # --- market and account controls ---------------------------------------------------

    def advance(self, seconds: float | Decimal) -> datetime:
        """Move broker time; market-data and keepUpToDate subscribers hear what changed, and
        account values due for their periodic refresh are sent."""
        now = self.clock.advance(seconds)
        if self.config.market_prices:  # the market moved: resting orders may be marketable
            for symbol in {order.contract.symbol for order in self.ledger.live_orders()}:
                self.desk.match_resting(symbol)
        self.market_data.publish()
        self.history.publish()
        self.pnl.publish()
        self.delivery.refresh_accounts()
        self.flush()
        return now

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the market; resting limit orders that become marketable fill."""
        self.contracts.set_price(symbol, price)
        self.desk.match_resting(symbol)
        self.flush()

    def halt(self, symbol: str, mode: HaltMode = HaltMode.REJECT) -> None:
        self.contracts.halt(symbol, mode)
        self.market_data.publish()  # subscribers tick halted now
        self.flush()

    def resume(self, symbol: str) -> None:
        self.contracts.resume(symbol)
        self.desk.match_resting(symbol)
        self.market_data.publish()
        self.flush()

    def rename_contract(
        self, old_symbol: str, new_symbol: str, *, new_con_id: int | None = None
    ) -> None:
        """Corporate action (EDGE-02): the old symbol stops resolving."""
        self.contracts.rename(old_symbol, new_symbol, new_con_id=new_con_id)

    def switch_account(self, *accounts: str) -> None:
        """The session now manages other accounts (SEC-02): managedAccounts to everyone."""
        if not accounts:
            raise UsageError("switch_account needs at least one account")
        self.state.accounts = tuple(accounts)
        self.post_all(ManagedAccounts(accountsList=",".join(self.accounts)))
        self.flush()

    def set_what_if(self, answer: WhatIfAnswer | None) -> None:
        """Script the what-if answer; None goes back to answers computed from the account."""
        self.state.what_if = answer

    def new_day(self, when: datetime | None = None) -> None:
        """Overnight restart of TWS: orderIds may be handed out again; yesterday's
        executions and completed orders leave the day's reports; GTC orders stay."""
        if when is not None:
            self.clock.set(when)
        self.ids.new_day()
        self.state.day_started_at = self.clock.broker_now()
        self.ledger.prune_before(self.state.day_started_at)
        self.requests.prune_before(self.state.day_started_at)
        self.state.day_first_exec = len(self.ledger.executions)
        self.pnl.start_day()  # the market stands at the previous close: the day's P&L baseline
        for order in self.ledger.live_orders():
            if order.tif == "DAY":
                order.complete("Cancelled", self.day_started_at, "Cancelled by TWS at session end")

    def force_next_order_id(self, client_id: int, order_id: int) -> None:
        """What the next nextValidId / reqIds says (reuse: FAIL-05; 2^31-1: EDGE-03)."""
        self.ids.force_next_order_id(client_id, order_id)

    def tws_connectivity(self, code: int) -> None:
        """TWS's own link to IB: 1100 lost, 1101 restored with data lost, 1102 restored."""
        texts = {
            1100: "Connectivity between IB and Trader Workstation has been lost.",
            1101: "Connectivity between IB and TWS has been restored- data lost.",
            1102: "Connectivity between IB and TWS has been restored- data maintained.",
        }
        if code not in texts:
            raise UsageError(f"not a connectivity code: {code}")
        self.post_all(Error(reqId=-1, errorCode=code, errorString=texts[code]))
        self.flush()

    # --- order controls (delegated to the desk) ------------------------------------------

    def stall(self, perm_id: int, stalled: bool = True) -> None:
        """Stop (or resume) live messages about one order (CONN-03)."""
        self.ledger.orders[perm_id].muted = stalled

    def fill(
        self,
        perm_id: int,
        shares: Decimal,
        price: Decimal,
        *,
        time: datetime | None = None,
        exec_before_status: bool = False,
    ) -> str:
        """Execute `shares` @ `price` against an order now (0 shares and negative prices
        are allowed: EDGE-01, LIFE-06). Returns the execId."""
        exec_id = self.desk.execute(
            self.ledger.orders[perm_id],
            shares,
            price,
            time=time,
            exec_before_status=exec_before_status,
        )
        self.flush()
        return exec_id

    def duplicate_execution(self, exec_id: str) -> None:
        """Send an execution again, same execId and data (LIFE-05)."""
        self.desk.replay(exec_id)
        self.flush()

    def correct_execution(
        self, exec_id: str, *, shares: Decimal | None = None, price: Decimal | None = None
    ) -> str:
        """Correct an execution: same execution, last `.NN` bumped. Returns the new execId."""
        new_id = self.desk.correct(exec_id, shares=shares, price=price)
        self.flush()
        return new_id

    def inject_order(
        self,
        *,
        client_id: int,
        symbol: str,
        action: str,
        quantity: Decimal,
        order_type: str = "LMT",
        lmt_price: Decimal | None = None,
        tif: str = "DAY",
        order_ref: str = "",
        order_id: int | None = None,
        account: str | None = None,
        broadcast: bool = False,
    ) -> SimOrder:
        """An order the engine did not place: a manual TWS order (clientId 0, SEC-01),
        another system's, or one of ours from a previous run (CONN-02, FAIL-06)."""
        order = self.desk.inject(
            client_id=client_id,
            symbol=symbol,
            action=action,
            quantity=quantity,
            order_type=order_type,
            lmt_price=lmt_price,
            tif=tif,
            order_ref=order_ref,
            order_id=order_id,
            account=account or self.accounts[0],
            broadcast=broadcast,
        )
        self.flush()
        return order

    def forget_order(self, perm_id: int) -> SimOrder:
        """The broker has no open, completed or executed record of this order (FAIL-04)."""
        return self.ledger.forget_order(perm_id)

    def hold(
        self,
        perm_id: int,
        why_held: str = "locate",
        text: str = "Order held while securities are located.",
    ) -> None:
        """Hold a live order (404, then orderStatus Inactive with `why_held`): not dead, it
        may still be released and fill (LIFE-13)."""
        self.desk.hold(self.ledger.orders[perm_id], why_held, text)
        self.flush()

    def release(self, perm_id: int) -> None:
        """End a hold: orderStatus Submitted again."""
        self.desk.hold(self.ledger.orders[perm_id], "", "")
        self.flush()

    def join_oca_group(self, group: str, *perm_ids: int) -> None:
        """Put live orders in one OCA group, as if placed with ``ocaGroup=group`` (the
        engine's requests carry no OCA group): a fill of one cancels the others (LIFE-16)."""
        for perm_id in perm_ids:
            order = self.ledger.orders[perm_id]
            order.oca_group = group
            if order.on_status is not None:
                order.on_status(order)  # the books index grouped orders on a status change

    def cancel_at_broker(self, perm_id: int, reason: str = "") -> None:
        """The broker cancels an order on its own (halt, corporate action, expiry)."""
        self.desk.cancel_order(self.ledger.orders[perm_id], reason)
        self.flush()

    def force_position(self, account: str, symbol: str, quantity: Decimal) -> None:
        """Make the broker's books say something else (OPS-02 health mismatch)."""
        listing = self.contracts.resolve(symbol)
        if listing is None:
            raise UsageError(f"{symbol} was renamed away")
        self.ledger.position_line(account, listing.contract).position = quantity

    # --- observation --------------------------------------------------------------------

    def orders(self) -> tuple[SimOrder, ...]:
        return tuple(self.ledger.orders.values())

    def live_orders(self) -> tuple[SimOrder, ...]:
        return tuple(self.ledger.live_orders())

    def orders_by_ref(self, order_ref: str) -> tuple[SimOrder, ...]:
        return tuple(self.ledger.by_ref(order_ref))

    def position(self, symbol: str, account: str | None = None) -> Decimal:
        return self.ledger.position(account or self.accounts[0], symbol)
