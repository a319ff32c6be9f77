"""The engine core's settings: one frozen value passed to the constructor (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal
from typing import final
from zoneinfo import ZoneInfo

from ibguard.engine.errors import ConfigError

__all__ = ["EngineConfig"]

ORDER_ID_MAX = 2**31 - 1


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    account: str
    client_id: int = 1
    namespace: str = "ibg"
    exchange_tz: str = "America/New_York"
    eod_flatten_at: time | None = time(15, 50)
    overnight_check_at: time | None = time(4, 0)
    stale_after: timedelta = timedelta(minutes=5)
    skew_tolerance: timedelta = timedelta(seconds=30)
    what_if_timeout: timedelta = timedelta(seconds=30)
    # after the broker says a flatten order Filled, how long its executions may take to
    # reach the position before the summary counts them missing (broker time)
    flatten_fill_wait: timedelta = timedelta(seconds=30)
    max_messages_per_second: int = 45
    negative_price_sec_types: frozenset[str] = field(default=frozenset({"BAG"}))
    negative_price_symbols: frozenset[str] = field(default=frozenset())
    position_tolerance: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        errors: list[str] = []
        if not self.account:
            errors.append("account: must name the IB account to trade, e.g. 'DU1234567'")
        if not 0 <= self.client_id <= ORDER_ID_MAX:
            errors.append(f"client_id: must be 0..{ORDER_ID_MAX}, got {self.client_id}")
        if not self.namespace or ":" in self.namespace:
            errors.append(f"namespace: must be non-empty without ':', got {self.namespace!r}")
        try:
            ZoneInfo(self.exchange_tz)
        except (KeyError, ValueError):
            errors.append(f"exchange_tz: unknown time zone {self.exchange_tz!r}")
        if self.stale_after <= timedelta(0):
            errors.append("stale_after: must be positive")
        if self.what_if_timeout <= timedelta(0):
            errors.append("what_if_timeout: must be positive")
        if self.flatten_fill_wait < timedelta(0):
            errors.append("flatten_fill_wait: must not be negative")
        if self.skew_tolerance < timedelta(0):
            errors.append("skew_tolerance: must not be negative")
        if self.max_messages_per_second < 1:
            errors.append("max_messages_per_second: must be at least 1")
        if self.position_tolerance < 0:
            errors.append("position_tolerance: must not be negative")
        if errors:
            raise ConfigError(errors, source="EngineConfig")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.exchange_tz)
