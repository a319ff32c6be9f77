"""Drivers: how a case's SimBroker is put in front of the subject.

Owns the `Driver` ABC and the in-process driver. A driver turns one SimBroker into the
`Endpoint` a subject starts against: in-process, a factory of `SimConnector` ports; over
the wire (the fake TWS gateway, a later driver), host/port/clientId of a socket fronting
the same SimBroker. Cases never know which driver runs them: they script the broker and
observe it broker-side, so adding a driver adds no case code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Final

from ibguard.engine.ports import BrokerPort
from ibguard.kit.matrix.subject import Endpoint, InProcessEndpoint
from ibguard.kit.sim.broker import SimBroker
from ibguard.kit.sim.inprocess import SimConnector

__all__ = ["DRIVERS", "Driver", "InProcessDriver", "UnknownDriver", "make_driver"]


class UnknownDriver(ValueError):
    """The driver name is not one of DRIVERS (or that driver is not available yet)."""


class Driver(ABC):
    name: str

    @abstractmethod
    def endpoint(self, broker: SimBroker, *, client_id: int, account: str) -> Endpoint:
        """An endpoint fronting `broker` for one subject."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what endpoint() opened (sockets, threads). Called after every case."""


class InProcessDriver(Driver):
    name = "inprocess"

    def endpoint(self, broker: SimBroker, *, client_id: int, account: str) -> Endpoint:
        def connector() -> BrokerPort:
            return SimConnector(broker, client_id)

        return InProcessEndpoint(
            connector=connector,
            client_id=client_id,
            account=account,
            local_clock=broker.clock.local_now,
        )


DRIVERS: Final = ("inprocess", "wire")


def make_driver(name: str) -> Driver:
    if name == "inprocess":
        return InProcessDriver()
    if name == "wire":
        raise UnknownDriver(
            "driver 'wire' needs the fake TWS gateway, which is not available yet; "
            "use --driver inprocess"
        )
    raise UnknownDriver(f"unknown driver {name!r}; choose one of {', '.join(DRIVERS)}")
