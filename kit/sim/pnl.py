"""reqPnL / reqPnLSingle at the simulated TWS: the P&L of TWS's Portfolio window, streamed.

Owns the `PnL` and `PnLSingle` messages and the subscriptions that post them. Every number
comes from the account's one valuation (`Valuer.portfolio_value`: the position at the
listing's mark, with its multiplier), so P&L, portfolio lines and account values agree:
- unrealizedPnL: the position's unrealized P&L against its average cost;
- realizedPnL: what closed units realized today (price moves, before commissions, as the
  account's RealizedPnL);
- dailyPnL: unrealized + realized today, minus the unrealized P&L the position had when the
  day started (`start_day`, called by `SimBroker.new_day` at the day's start, when the market
  still stands at the previous close). A position opened today counts from its fill prices;
  one held overnight from the previous close;
- pnlSingle's value: the position's market value; pos: its size.

Cadence, as TWS: the first answer at once, then about once per second (`PNL_INTERVAL` of
broker time, on `publish`) and only when a value changed. Where TWS's answer is not
documented (docs/tws-protocol-notes.md): a conId the account holds no position in gets
nothing until a fill opens one (the subscription stays); a position not traded today has
realizedPnL unset (Double.MAX_VALUE on the wire, as IB's docs describe "unpopulated"
values); an account the login does not manage, or a model code, is refused with 321.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final, final

from ibguard.kit.sim.account import Valuer
from ibguard.kit.sim.book import Ledger, PositionLine
from ibguard.kit.sim.clock import VirtualClock
from ibguard.kit.sim.delivery import Client, Delivery
from ibguard.kit.sim.messages import Error, PortfolioValue, TwsMessage

__all__ = ["PNL_INTERVAL", "PnL", "PnLDesk", "PnLSingle"]

PNL_INTERVAL: Final = timedelta(seconds=1)
_CENT: Final = Decimal("0.01")
_ZERO: Final = Decimal(0)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PnL(TwsMessage):
    reqId: int
    dailyPnL: Decimal
    unrealizedPnL: Decimal
    realizedPnL: Decimal


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PnLSingle(TwsMessage):
    reqId: int
    pos: Decimal
    dailyPnL: Decimal
    unrealizedPnL: Decimal
    realizedPnL: Decimal | None  # None: not traded today (unset on the wire)
    value: Decimal


@dataclass(frozen=True, slots=True)
class _DayStart:
    """A position line as the day found it."""

    position: Decimal
    avg_cost: Decimal
    realized: Decimal  # line.realized_pnl (per unit of multiplier)
    unrealized: Decimal  # money, at the price then (the previous close)


@dataclass
class _Subscription:
    session: Client
    req_id: int
    account: str
    con_id: int | None  # None: the whole account
    sent: TwsMessage | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Figures:
    daily: Decimal
    unrealized: Decimal
    realized: Decimal | None


class PnLDesk:
    """`accounts()`: the accounts the login manages (they change on an account switch)."""

    def __init__(
        self,
        *,
        clock: VirtualClock,
        ledger: Ledger,
        valuer: Valuer,
        delivery: Delivery,
        accounts: Callable[[], tuple[str, ...]],
    ) -> None:
        self._clock = clock
        self._ledger = ledger
        self._valuer = valuer
        self._delivery = delivery
        self._accounts = accounts
        self._day: dict[tuple[str, int], _DayStart] = {}
        self._subs: dict[tuple[int, int], _Subscription] = {}  # (clientId, reqId)

    # --- requests ----------------------------------------------------------------------

    def subscribe(
        self, session: Client, req_id: int, account: str, model_code: str, con_id: int | None
    ) -> None:
        """reqPnL (``con_id`` None) or reqPnLSingle: the first answer now."""
        name = "reqPnL" if con_id is None else "reqPnLSingle"
        if account not in self._accounts():
            self._refuse(session, req_id, f"Invalid account code: {account}")
            return
        if model_code:
            self._refuse(session, req_id, f"{name}: model code {model_code!r} is not modelled")
            return
        sub = _Subscription(session, req_id, account, con_id)
        self._subs[(session.client_id, req_id)] = sub
        self._send(sub, self._clock.broker_now())

    def cancel(self, session: Client, req_id: int) -> None:
        """cancelPnL / cancelPnLSingle: silence, as in TWS."""
        self._subs.pop((session.client_id, req_id), None)

    @property
    def subscriptions(self) -> int:
        return len(self._subs)

    # --- time moves --------------------------------------------------------------------

    def start_day(self) -> None:
        """A new trading day: every position line as it stands now (the market at the
        previous close) is the baseline of the day's P&L."""
        self._day = {}
        for (account, con_id), line in self._ledger.positions.items():
            value = self._valuer.portfolio_value(line)
            self._day[(account, con_id)] = _DayStart(
                line.position, line.avg_cost, line.realized_pnl, value.unrealizedPNL
            )

    def publish(self) -> None:
        """Each subscription whose interval passed hears its P&L when it changed."""
        now = self._clock.broker_now()
        for key, sub in list(self._subs.items()):
            if not sub.session.connected:
                del self._subs[key]
            elif sub.sent_at is None or now - sub.sent_at >= PNL_INTERVAL:
                self._send(sub, now)

    # --- the numbers -------------------------------------------------------------------

    def _figures(self, line: PositionLine, value: PortfolioValue) -> _Figures:
        start = self._day.get((line.account, line.contract.conId))
        if start is None:  # opened today (or never held at a day's start)
            realized = value.realizedPNL
            return _Figures(value.unrealizedPNL + realized, value.unrealizedPNL, realized)
        traded = (line.position, line.avg_cost, line.realized_pnl) != (
            start.position,
            start.avg_cost,
            start.realized,
        )
        realized_today = (line.realized_pnl - start.realized) * line.multiplier
        daily = value.unrealizedPNL + realized_today - start.unrealized
        return _Figures(daily, value.unrealizedPNL, realized_today if traded else None)

    def _message(self, sub: _Subscription) -> TwsMessage | None:
        lines = [
            line
            for line in self._ledger.positions.values()
            if line.account == sub.account
            and (sub.con_id is None or line.contract.conId == sub.con_id)
        ]
        if sub.con_id is not None:
            if not lines:
                return None  # no position in it yet: nothing, until a fill opens one
            (line,) = lines
            value = self._valuer.portfolio_value(line)
            f = self._figures(line, value)
            return PnLSingle(
                reqId=sub.req_id,
                pos=line.position,
                dailyPnL=_cents(f.daily),
                unrealizedPnL=_cents(f.unrealized),
                realizedPnL=None if f.realized is None else _cents(f.realized),
                value=_cents(value.marketValue),
            )
        daily = unrealized = realized = _ZERO
        for line in lines:
            f = self._figures(line, self._valuer.portfolio_value(line))
            daily += f.daily
            unrealized += f.unrealized
            realized += f.realized or _ZERO
        return PnL(
            reqId=sub.req_id,
            dailyPnL=_cents(daily),
            unrealizedPnL=_cents(unrealized),
            realizedPnL=_cents(realized),
        )

    def _send(self, sub: _Subscription, now: datetime) -> None:
        message = self._message(sub)
        if message is None or message == sub.sent:
            return
        sub.sent, sub.sent_at = message, now
        self._delivery.post(sub.session, message)

    def _refuse(self, session: Client, req_id: int, cause: str) -> None:
        text = f"Error validating request:-'bO' : cause - {cause}"
        self._delivery.post(session, Error(reqId=req_id, errorCode=321, errorString=text))


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT)
