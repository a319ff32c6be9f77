"""The simulated broker's settings: fixed at start (`BrokerConfig`, `WhatIfAnswer`) and the
few a case changes while it runs (`BrokerState`).

What-if checks are answered from the account by default (`what_if.py`, the Reg T model of
`margins.py`); a `WhatIfAnswer` set in the config or by a case overrides them with scripted
numbers (FAIL-07: margin_ok=False).

Every part of the SimBroker (desk, queries, delivery, account valuation) reads its settings
from here, handed in by the broker, so none of them needs the broker itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Final

from ibguard.kit.sim.clock import DEFAULT_START

__all__ = ["TWS_TIME_ZONE", "BrokerConfig", "BrokerState", "WhatIfAnswer"]

TWS_TIME_ZONE: Final = "US/Eastern"
"""The zone the simulated TWS is logged in with unless a case says otherwise: an engine
configured with its TWS's zone (ib_async's `IB.TimezoneTWS`) is configured with this one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIfAnswer:
    """A scripted what-if answer, instead of the computed one (FAIL-07: margin_ok=False)."""

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
    what_if: WhatIfAnswer | None = None  # None: computed from the account
    # the account's money (see `account.py`): cash at start, one currency, Reg T rates
    start_cash: Decimal = Decimal("1000000")
    base_currency: str = "USD"
    initial_margin_rate: Decimal = Decimal("0.50")
    maintenance_margin_rate: Decimal = Decimal("0.25")
    buying_power_multiplier: Decimal = Decimal(4)
    # instrument files extending the built-in catalog (see `instruments_file.py`)
    instrument_files: tuple[Path, ...] = ()
    # fills and marks from the price model (the paper TWS) instead of fixed prices
    market_prices: bool = False
    # a stock symbol the catalog does not know: listed on first use, or error 200 (TWS)
    create_unknown_contracts: bool = True
    # TWS prints execution and completed-order times in the zone it runs in (its login
    # setting), as "YYYYMMDD HH:MM:SS US/Eastern"
    tws_time_zone: str = TWS_TIME_ZONE
    # False: execution times go out as "YYYYMMDD HH:MM:SS" with no zone, in `tws_time_zone`,
    # as TWS builds before the zone suffix print them (EDGE-05[no-zone])
    tws_prints_zone: bool = True
    # the day's finished orders, executions and received requests are kept (TWS answers for
    # the whole day) as objects until more than this many gather, then as rows in a private
    # SQLite file (`archive.py`): bounded memory however long the day
    objects_per_archive_batch: int = 500

    def commission(self, shares: Decimal) -> Decimal:
        """IB's fixed per-share commission for one execution of ``shares`` (none for 0)."""
        if not shares:
            return Decimal("0.00")
        amount = max(self.min_commission, abs(shares) * self.commission_per_share)
        return amount.quantize(Decimal("0.01"))


@dataclass(slots=True, kw_only=True)
class BrokerState:
    """What a case changes while the broker runs: the managed accounts (SEC-02), the what-if
    answer, whether resting orders match on their own, and where today's trading day began
    (a new day forgets yesterday's executions and completed orders)."""

    accounts: tuple[str, ...]
    what_if: WhatIfAnswer | None
    auto_match: bool
    day_started_at: datetime
    day_first_exec: int = 0

    @classmethod
    def at_start(cls, config: BrokerConfig, now: datetime) -> BrokerState:
        return cls(
            accounts=config.accounts,
            what_if=config.what_if,
            auto_match=config.auto_match,
            day_started_at=now,
        )
