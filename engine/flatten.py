"""Flatten-all as data: which orders close the book, and what a finished flatten reports.

A flatten asks the broker's what-if check first and sends nothing when margin says no
(FAIL-07). Its orders carry `flatten_reason`, so a rejected flatten order can never start
another flatten (FAIL-03). When every flatten order is terminal, one report names each
failure and the exposure left (FAIL-01, FAIL-02).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import final

from ibguard.engine.model import Instrument, OrderRequest, OrderType, Side

__all__ = ["FlattenReport", "FlattenRun", "describe_exposure", "flatten_orders"]


def flatten_orders(
    positions: Mapping[str, Decimal], instruments: Mapping[str, Instrument], reason: str
) -> tuple[OrderRequest, ...]:
    """One market order per non-zero position, closing it."""
    return tuple(
        OrderRequest(
            instrument=instruments[key],
            side=Side.SELL if quantity > 0 else Side.BUY,
            quantity=abs(quantity),
            order_type=OrderType.MARKET,
            flatten_reason=reason,
        )
        for key, quantity in sorted(positions.items())
        if quantity
    )


def describe_exposure(
    positions: Mapping[str, Decimal], instruments: Mapping[str, Instrument]
) -> tuple[str, ...]:
    """("TSLA long 100", "AAPL short 5") for every non-zero position."""
    return tuple(
        f"{instruments[key].symbol} {'long' if quantity > 0 else 'short'} {abs(quantity)}"
        for key, quantity in sorted(positions.items())
        if quantity
    )


@dataclass(slots=True)
class FlattenRun:
    reason: str
    request_id: int
    orders: tuple[OrderRequest, ...]
    oms_ids: list[str] = field(default_factory=list)
    recursion_logged: set[str] = field(default_factory=set)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class FlattenReport:
    """The outcome of one flatten: what failed and what is still open."""

    reason: str
    orders: tuple[str, ...]
    failures: tuple[str, ...]
    exposure_left: tuple[str, ...]
    aborted: bool = False

    @property
    def complete(self) -> bool:
        return not self.failures and not self.exposure_left and not self.aborted
