"""Foreign activity (SEC-01): broker orders and fills that are not the strategy's.

Manual TWS orders, other clientIds and other systems stay out of the strategy's orders
and positions, and are logged once per order. Their fills in our account still move the
broker's position there, so they are counted apart (`positions`): the position watch
compares the broker with own plus foreign (OPS-02). Fills in other accounts the login can
see move nothing of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from ibguard.engine.config import EngineConfig
from ibguard.engine.decision_log import DecisionLog
from ibguard.engine.events import ExecutionReport
from ibguard.engine.identity import parse_order_ref
from ibguard.engine.instruments import InstrumentRegistry
from ibguard.engine.logcodes import LogCode

__all__ = ["ForeignActivity"]


class ForeignActivity:
    def __init__(
        self, config: EngineConfig, log: DecisionLog, instruments: InstrumentRegistry
    ) -> None:
        self._config = config
        self._log = log
        self._instruments = instruments
        self._positions: dict[str, Decimal] = {}
        self.positions: Final[Mapping[str, Decimal]] = MappingProxyType(self._positions)
        self._exec_ids: set[str] = set()
        self._seen: set[int] = set()

    def sighted(self, *, perm_id: int, client_id: int, order_ref: str, what: str) -> bool:
        """Note a foreign order or execution. True when it carries our clientId but not our
        namespace: another process is using our clientId."""
        stolen = (
            client_id == self._config.client_id
            and parse_order_ref(self._config.namespace, order_ref) is None
        )
        if perm_id not in self._seen or not perm_id:
            self._seen.add(perm_id)
            self._log.info(
                LogCode.FOREIGN_ORDER,
                f"foreign {what} left out of the strategy's book",
                perm_id=perm_id,
                client_id=client_id,
                order_ref=order_ref,
            )
        return stolen

    def fill(self, report: ExecutionReport) -> bool:
        """A foreign execution; counted once when it is in our account. Returns `sighted`."""
        stolen = self.sighted(
            perm_id=report.perm_id,
            client_id=report.client_id,
            order_ref=report.order_ref,
            what="execution",
        )
        ours = report.account in ("", self._config.account)
        if ours and report.exec_id not in self._exec_ids:
            self._exec_ids.add(report.exec_id)
            instrument = report.instrument
            self._instruments.know(instrument)
            key = instrument.key
            signed = report.shares * report.side.sign
            self._positions[key] = self._positions.get(key, Decimal(0)) + signed
        return stolen
