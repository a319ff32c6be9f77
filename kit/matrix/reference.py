"""The reference engine's subject: the default of `ibguard matrix` and the documented example.

Owns the wiring of `ibguard.engine.Engine` + the endpoint's connector + `Pump` behind the
`Subject` protocol. It is deliberately thin: every decision is the engine's; this module only
turns subject calls into engine events and reads the engine's frozen views back.

Copy it when writing your own subject: `start` builds the engine on the endpoint, `tick`
feeds broker time (and reconnects a dropped session, as a service's timer would), `restart`
throws the engine away and builds a new one on a fresh connection.

Both drivers: on an `InProcessEndpoint` the engine trades through a `SimConnector`; on a
`WireEndpoint` through its real IB connector (`IBConnector`, ib_async or else ib_insync)
against the fake TWS gateway, on the wire driver's event loop (the thread's current loop).
There the connector reconnects by itself, with its backoff on that loop's virtual clock, so
`tick` has nothing to reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from ibguard.engine.config import EngineConfig
from ibguard.engine.connector.ib import IBConnector
from ibguard.engine.engine import Engine
from ibguard.engine.events import FlattenAll, RequestCancel, SubmitOrder, Tick
from ibguard.engine.health import HealthReport
from ibguard.engine.model import Instrument, OrderRequest, OrderSnapshot
from ibguard.engine.ports import BrokerPort, Clock
from ibguard.engine.shell.logfiles import RotatingJsonFileHandler
from ibguard.engine.shell.pump import Pump
from ibguard.errors import UsageError
from ibguard.kit.matrix.health_endpoint import ServedHealth
from ibguard.kit.matrix.subject import (
    ALL_CAPABILITIES,
    HEALTH_HTTP,
    LOG_RECORDS,
    TWS_RATE_LIMIT,
    Endpoint,
    HealthView,
    InProcessEndpoint,
    Subject,
    WireEndpoint,
)
from ibguard.kit.sim.config import TWS_TIME_ZONE
from ibguard.kit.sim.inprocess import SimConnector

if TYPE_CHECKING:
    from ibguard.rules.settings import Settings

__all__ = ["CodeCapture", "ReferenceSubject", "make_subject"]


_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}


class CodeCapture(logging.Handler):
    """Keeps every record that has a `code`, in order: its code and its fields (the
    `extra` it was logged with)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.codes: list[str] = []
        self.records: list[Mapping[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        code = getattr(record, "code", None)
        if code is not None:
            name = str(getattr(code, "value", code))
            self.codes.append(name)
            fields = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
            self.records.append(MappingProxyType({**fields, "code": name}))


class EndpointClock(Clock):
    """The host's wall clock as the case controls it (the endpoint's `local_clock`)."""

    def __init__(self, read: Callable[[], datetime]) -> None:
        self._read = read

    def now(self) -> datetime:
        return self._read()


class ReferenceSubject(Subject):
    capabilities = ALL_CAPABILITIES | {HEALTH_HTTP, LOG_RECORDS}

    def __init__(self, **config: object) -> None:
        self._config_overrides = config
        self._logger = logging.getLogger(f"ibguard.matrix.reference.{id(self):x}")
        self._logger.setLevel(logging.DEBUG)
        self._logger.propagate = False
        self._capture = CodeCapture()
        self._logger.addHandler(self._capture)
        self._endpoint: Endpoint | None = None
        self._connector: SimConnector | None = None
        self._wire: IBConnector | None = None
        self.engine: Engine | None = None
        self._health: ServedHealth | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self, endpoint: Endpoint) -> None:
        if not isinstance(endpoint, InProcessEndpoint | WireEndpoint):
            raise UsageError(f"unknown endpoint {endpoint!r}")
        self._endpoint = endpoint
        self._boot()

    def _boot(self) -> None:
        endpoint = self._endpoint
        assert endpoint is not None
        settings: dict[str, object] = {}
        if endpoint.rate_limit != TWS_RATE_LIMIT:  # a case set the broker's limit: keep to it
            settings["max_messages_per_second"] = endpoint.rate_limit
        config = EngineConfig(
            account=endpoint.account,
            client_id=endpoint.client_id,
            **{**settings, **self._config_overrides},  # type: ignore[arg-type]  # EngineConfig checks the override keys itself
        )
        self.engine = Engine(config, logger=self._logger)
        if isinstance(endpoint, WireEndpoint):
            self._wire = IBConnector(
                endpoint.host,
                endpoint.port,
                endpoint.client_id,
                clock=EndpointClock(endpoint.local_clock),
                tws_time_zone=TWS_TIME_ZONE,  # the matrix's TWS login zone (its operator knows it)
            )
            port: BrokerPort = self._wire
        else:
            port = endpoint.connector()
        self._connector = port if isinstance(port, SimConnector) else None
        self._pump = Pump(self.engine, self.wrap_port(port))
        self._pump.feed(Tick(now=endpoint.local_clock()))
        if self._wire is None:
            self._pump.start()  # the connector connects and says so (ConnectionRestored)
        else:
            asyncio.get_event_loop().run_until_complete(_on_loop(self._pump.start))

    def wrap_port(self, port: BrokerPort) -> BrokerPort:
        """The port the engine talks through (a hook for deliberately broken variants)."""
        return port

    def restart(self) -> None:
        self._disconnect()
        self._boot()

    def _disconnect(self) -> None:
        if self._connector is not None:
            self._connector.disconnect()
        if self._wire is not None:
            self._wire.stop()
            self._wire = None

    def stop(self) -> None:
        if self._health is not None:
            self._health.close()
            self._health = None
        self._disconnect()
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
            raise UsageError("the subject was not started")
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
            failed=tuple(c.name for c in report.failures),
        )

    def log_codes(self) -> Sequence[str]:
        return self._capture.codes

    def log_records(self) -> Sequence[Mapping[str, object]]:
        return self._capture.records

    def source_config(self) -> Settings:
        """ibguard's own engine and connector, wherever ibguard is installed."""
        from ibguard.kit.matrix.boundary_source import reference_settings

        return reference_settings()


async def _on_loop(start: Callable[[], None]) -> None:
    """IBConnector.start() connects in the background of the running loop."""
    start()


def make_subject() -> Subject:
    """The factory `[tool.ibguard] subject` names by default."""
    return ReferenceSubject()
