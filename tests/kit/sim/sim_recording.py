"""Test support for the SimBroker tests: a quiet broker, a listener that records messages,
order builders."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from ibguard.kit.sim import BrokerConfig, SimBroker
from ibguard.kit.sim import messages as ib

M = TypeVar("M")


def quiet(**config: object) -> SimBroker:
    """A SimBroker that says nothing unasked (no farm status messages on connect)."""
    return SimBroker(BrokerConfig(farm_status_messages=False, **config))  # type: ignore[arg-type]  # BrokerConfig checks the keys


class Recorder:
    """Listener that keeps every message a session received."""

    def __init__(self) -> None:
        self.messages: list[ib.Message] = []

    def __call__(self, message: ib.Message) -> None:
        self.messages.append(message)

    def of(self, kind: type[M]) -> list[M]:
        return [m for m in self.messages if isinstance(m, kind)]

    def kinds(self) -> list[str]:
        return [type(m).__name__ for m in self.messages]

    def errors(self) -> list[int]:
        return [m.errorCode for m in self.of(ib.Error) if m.errorCode < 2100 or m.errorCode > 2199]

    def clear(self) -> None:
        self.messages.clear()


def stock(symbol: str = "AAPL") -> ib.Contract:
    return ib.Contract(symbol=symbol)


def market(action: str, qty: int | str, ref: str = "") -> ib.Order:
    return ib.Order(action=action, totalQuantity=Decimal(qty), orderType="MKT", orderRef=ref)


def limit(action: str, qty: int | str, price: str, ref: str = "", tif: str = "DAY") -> ib.Order:
    return ib.Order(
        action=action,
        totalQuantity=Decimal(qty),
        orderType="LMT",
        lmtPrice=Decimal(price),
        orderRef=ref,
        tif=tif,
    )
