"""SimBroker: one simulated IBKR account behind any number of API sessions.

Owns the composition (clock, ids, security master, books, request log, script), the
sessions and who hears what, and the controls a case uses to make things happen now.
Order handling lives in `desk.py`, snapshot requests in `queries.py`.

Who hears what (like TWS): messages about an order go to the sessions of the clientId
that placed it, to the master clientId if one is configured, to clientId-0 sessions
that called reqAutoOpenOrders(True) when the order is a manual TWS order (clientId 0),
and to every session when the order was injected with `broadcast=True`. A stalled order
sends nothing live (snapshot answers still include it). Every public method delivers
the messages it produced before it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ibguard.errors import UsageError
from ibguard.kit.sim.account import portfolio_value, valuation
from ibguard.kit.sim.book import Ledger, PositionLine, SimOrder
from ibguard.kit.sim.clock import DEFAULT_START, VirtualClock
from ibguard.kit.sim.contracts import ContractBook, HaltMode
from ibguard.kit.sim.desk import OrderDesk
from ibguard.kit.sim.ids import IdAllocator
from ibguard.kit.sim.messages import (
    AccountUpdateTime,
    AccountValue,
    Disconnected,
    Error,
    ManagedAccounts,
    Message,
    NextValidId,
    Position,
)
from ibguard.kit.sim.observe import RequestLog
from ibguard.kit.sim.queries import Queries
from ibguard.kit.sim.ratelimit import RateLimiter
from ibguard.kit.sim.script import DropConnection, Script
from ibguard.kit.sim.session import ApiSession, Listener, Outbox

__all__ = ["BrokerConfig", "SimBroker", "WhatIfAnswer"]

log = logging.getLogger(__name__)

_FARM_STATUS = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIfAnswer:
    """How the broker answers what-if checks (FAIL-07: margin_ok=False)."""

    margin_ok: bool = True
    equity_with_loan: Decimal = Decimal("1000000")
    init_margin_after: Decimal = Decimal("250000")
    warning: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerConfig:
    accounts: tuple[str, ...] = ("DU1234567",)
    rate_limit_per_second: int = 50
    commission_per_share: Decimal = Decimal("0.005")
    min_commission: Decimal = Decimal("1.00")
    master_client_id: int | None = None
    farm_status_messages: bool = True
    default_price: Decimal = Decimal("100.00")
    start: datetime = DEFAULT_START
    auto_match: bool = True
    working_status: str = "Submitted"  # or "PreSubmitted" (held by IB's simulated types)
    what_if: WhatIfAnswer = field(default_factory=WhatIfAnswer)
    # the account's money (see `account.py`): cash at start, one currency, Reg T rates
    start_cash: Decimal = Decimal("1000000")
    base_currency: str = "USD"
    initial_margin_rate: Decimal = Decimal("0.50")
    maintenance_margin_rate: Decimal = Decimal("0.25")
    buying_power_multiplier: Decimal = Decimal(4)


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
        self.contracts = ContractBook(default_price=self.config.default_price)
        self.ledger = Ledger()
        self.requests = RequestLog()
        self.accounts: tuple[str, ...] = self.config.accounts
        self.what_if = self.config.what_if
        self.auto_match = self.config.auto_match
        self.day_started_at = self.clock.broker_now()
        self.day_first_exec = 0
        self._sessions: dict[int, ApiSession] = {}
        self._limiters: dict[int, RateLimiter] = {}
        self._outbox = Outbox()
        self.desk = OrderDesk(self)
        self.queries = Queries(self)

    # --- sessions -----------------------------------------------------------------------

    def connect(self, client_id: int, listener: Listener) -> ApiSession:
        """startApi. A clientId already connected is refused: error 326, then closed."""
        session = ApiSession(self, client_id, listener)
        self.requests.record(time=self.clock.broker_now(), client_id=client_id, request="startApi")
        if client_id in self._sessions:
            text = (
                "Unable to connect as the client id is already in use. "
                "Retry with a unique client id."
            )
            session.connected = False
            refusal = Error(reqId=-1, errorCode=326, errorString=text)
            self._outbox.post(session, refusal, even_if_closed=True)
            self._outbox.post(session, Disconnected(reason="client id in use"), even_if_closed=True)
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
        self._outbox.post(session, Disconnected(reason=reason), even_if_closed=True)
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
        if request == "placeOrder" and not what_if:
            drop = self.script.take(DropConnection, symbol=symbol, client_id=session.client_id)
        if drop is not None and not drop.received:
            self._close(session, "dropped before the broker received placeOrder")
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
                self._close(session, "dropped after the broker received placeOrder")
            action()
        self.flush()

    # --- delivery -----------------------------------------------------------------------

    def post(self, session: ApiSession, message: Message) -> None:
        self._outbox.post(session, message)

    def post_about(self, order: SimOrder, message: Message) -> None:
        """A live message about `order`, to every session that hears about it."""
        if order.muted:
            return
        for session in self._sessions.values():
            if self._hears(session, order):
                self.post(session, message)

    def post_position_update(self, line: PositionLine) -> None:
        """A position changed: tell every session with an open reqPositions subscription."""
        update = Position(
            account=line.account,
            contract=line.contract,
            position=line.position,
            avgCost=line.avg_cost,
        )
        for session in self._sessions.values():
            if session.positions_subscribed:
                self.post(session, update)

    def post_account_update(self, line: PositionLine) -> None:
        """A fill moved `line`: tell the sessions subscribed to its account by
        reqAccountUpdates (its portfolio value, the account values, the update time)."""
        listeners = [s for s in self._sessions.values() if s.account_subscription == line.account]
        if not listeners:
            return
        valued = valuation(self, line.account)
        messages: list[Message] = [portfolio_value(self, line)]
        messages += [
            AccountValue(key=k, value=v, currency=c, accountName=line.account)
            for k, v, c in valued.values
        ]
        messages.append(AccountUpdateTime(time=self.clock.broker_now()))
        for session in listeners:
            for message in messages:
                self.post(session, message)

    def post_all(self, message: Message) -> None:
        for session in self._sessions.values():
            self.post(session, message)

    def flush(self) -> None:
        self._outbox.flush()

    def _hears(self, session: ApiSession, order: SimOrder) -> bool:
        cid = session.client_id
        if order.broadcast or cid in (order.client_id, self.config.master_client_id):
            return True
        return order.client_id == 0 and cid == 0 and session.auto_bind

    # --- market and account controls ---------------------------------------------------

    def advance(self, seconds: float | Decimal) -> datetime:
        return self.clock.advance(seconds)

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the market; resting limit orders that become marketable fill."""
        self.contracts.set_price(symbol, price)
        self.desk.match_resting(symbol)
        self.flush()

    def halt(self, symbol: str, mode: HaltMode = HaltMode.REJECT) -> None:
        self.contracts.halt(symbol, mode)

    def resume(self, symbol: str) -> None:
        self.contracts.resume(symbol)
        self.desk.match_resting(symbol)
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
        self.accounts = tuple(accounts)
        self.post_all(ManagedAccounts(accountsList=",".join(self.accounts)))
        self.flush()

    def set_what_if(self, answer: WhatIfAnswer) -> None:
        self.what_if = answer

    def new_day(self, when: datetime | None = None) -> None:
        """Overnight restart of TWS: orderIds may be handed out again; yesterday's
        executions and completed orders leave the day's reports; GTC orders stay."""
        if when is not None:
            self.clock.set(when)
        self.ids.new_day()
        self.day_started_at = self.clock.broker_now()
        self.day_first_exec = len(self.ledger.executions)
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
