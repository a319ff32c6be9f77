"""The reference engine's subject: the default of `ibguard matrix` and the documented example.

Owns the wiring of `ibguard.engine.Engine` + the endpoint's connector + `Pump` behind the
`Subject` protocol. It is deliberately thin: every decision is the engine's; this module only
turns subject calls into engine events and reads the engine's frozen views back.

Copy it when writing your own subject: `start` builds the engine on the endpoint, `tick`
feeds broker time (and reconnects a dropped session, as a service's timer would), `restart`
throws the engine away and builds a new one on a fresh connection.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ibguard.engine.config import EngineConfig
from ibguard.engine.engine import Engine
from ibguard.engine.events import FlattenAll, RequestCancel, SubmitOrder, Tick
from ibguard.engine.health import HealthReport
from ibguard.engine.model import Instrument, OrderRequest, OrderSnapshot
from ibguard.engine.ports import BrokerPort
from ibguard.engine.shell.logfiles import RotatingJsonFileHandler
from ibguard.engine.shell.pump import Pump
from ibguard.kit.matrix.health_endpoint import ServedHealth
from ibguard.kit.matrix.subject import (
    ALL_CAPABILITIES,
    HEALTH_HTTP,
    Endpoint,
    HealthView,
    InProcessEndpoint,
    Subject,
)
from ibguard.kit.sim.inprocess import SimConnector

if TYPE_CHECKING:
    from ibguard.rules.settings import Settings

__all__ = ["CodeCapture", "ReferenceSubject", "make_subject"]


class CodeCapture(logging.Handler):
    """Keeps the `code` of every record that has one, in order."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.codes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        code = getattr(record, "code", None)
        if code is not None:
            self.codes.append(str(getattr(code, "value", code)))


class ReferenceSubject(Subject):
    capabilities = ALL_CAPABILITIES | {HEALTH_HTTP}

    def __init__(self, **config: object) -> None:
        self._config_overrides = config
        self._logger = logging.getLogger(f"ibguard.matrix.reference.{id(self):x}")
        self._logger.setLevel(logging.DEBUG)
        self._logger.propagate = False
        self._capture = CodeCapture()
        self._logger.addHandler(self._capture)
        self._endpoint: InProcessEndpoint | None = None
        self._connector: SimConnector | None = None
        self.engine: Engine | None = None
        self._health: ServedHealth | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self, endpoint: Endpoint) -> None:
        if not isinstance(endpoint, InProcessEndpoint):
            raise TypeError("the reference subject runs on the in-process driver only")
        self._endpoint = endpoint
        self._boot()

    def _boot(self) -> None:
        endpoint = self._endpoint
        assert endpoint is not None
        config = EngineConfig(
            account=endpoint.account,
            client_id=endpoint.client_id,
            **self._config_overrides,  # type: ignore[arg-type]
        )
        self.engine = Engine(config, logger=self._logger)
        port = endpoint.connector()
        self._connector = port if isinstance(port, SimConnector) else None
        self._pump = Pump(self.engine, self.wrap_port(port))
        self._pump.feed(Tick(now=endpoint.local_clock()))
        self._pump.start()  # the connector connects and says so (ConnectionRestored)

    def wrap_port(self, port: BrokerPort) -> BrokerPort:
        """The port the engine talks through (a hook for deliberately broken variants)."""
        return port

    def restart(self) -> None:
        if self._connector is not None:
            self._connector.disconnect()
        self._boot()

    def stop(self) -> None:
        if self._health is not None:
            self._health.close()
            self._health = None
        if self._connector is not None:
            self._connector.disconnect()
        for handler in list(self._logger.handlers):
            self._logger.removeHandler(handler)
            if handler is not self._capture:
                handler.close()

    # --- intents ------------------------------------------------------------------------

    def submit(self, oms_id: str, request: OrderRequest) -> None:
        self._pump.feed(SubmitOrder(oms_id=oms_id, request=request))

    def cancel(self, oms_id: str) -> None:
        self._pump.feed(RequestCancel(oms_id=oms_id))

    def flatten(self, reason: str) -> None:
        self._pump.feed(FlattenAll(reason=reason))

    def tick(self, local_time: datetime) -> None:
        engine = self._engine
        connector = self._connector
        if connector is not None and not connector.connected and not engine.halted:
            connector.reconnect()  # the service's reconnect timer
        self._pump.feed(Tick(now=engine.broker_time(local_time)))

    def log_to(self, directory: Path, *, max_bytes: int, backups: int) -> None:
        assert self._endpoint is not None
        handler = RotatingJsonFileHandler(
            directory,
            max_bytes=max_bytes,
            backups=backups,
            tz=self._engine.config.exchange_tz,
            clock=self._endpoint.local_clock,
        )
        self._logger.addHandler(handler)

    # --- views --------------------------------------------------------------------------

    @property
    def _engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("the subject was not started")
        return self.engine

    def order(self, oms_id: str) -> OrderSnapshot | None:
        return self._engine.order(oms_id)

    def position(self, instrument: Instrument) -> Decimal:
        return self._engine.position(instrument)

    @property
    def halted(self) -> bool:
        return self._engine.halted

    def health_url(self) -> str:
        if self._health is None:
            self._health = ServedHealth(self._current_health)
        return self._health.url

    def _current_health(self) -> HealthReport:
        return self._engine.health()  # restart() rebuilds the engine: serve the current one

    def health(self) -> HealthView:
        report = self._engine.health()
        return HealthView(
            healthy=report.healthy,
            reasons=tuple(f"{c.name}: {c.reason}" for c in report.failures),
        )

    def log_codes(self) -> Sequence[str]:
        return self._capture.codes

    def source_config(self) -> Settings:
        """ibguard's own engine and connector, wherever ibguard is installed."""
        from ibguard.kit.matrix.boundary_source import reference_settings

        return reference_settings()


def make_subject() -> Subject:
    """The factory `[tool.ibguard] subject` names by default."""
    return ReferenceSubject()
