"""The Subject: the small adapter a team writes to put its engine under the matrix.

Owns the `Subject` ABC, the endpoints a subject is started against, and the capability
names. A subject drives its engine (start, submit, cancel, flatten, tick, restart) and
reads it back (order, position, halted, health, log codes). Everything that can be seen
at the broker (orders placed, cancels sent, message rate, orders after a halt) is observed
there by the kit, so it needs nothing from the subject.

`order()` returns the engine's own order view; the kit reads these attributes from it:
`status` (a name such as "WORKING" or an enum whose value is one), `filled`,
`avg_fill_price`, `perm_id`, `recovered`, `pending_reconcile` (see `OrderView` for an
adapter-made one), and `last_fill_at` (broker time of the last fill) when it has one. The
object must be frozen: BOUNDARY-01 assigns to it and expects an error.

`log_records()` (capability LOG_RECORDS) lets the kit check a decision's fields as well as
its code (CONN-05's measured skew, FAIL-01's failures and exposure, EDGE-04's queue depth);
without it those cases check codes only and say so in the report.

Capabilities: a case needing one the subject does not declare is skipped with the reason.

`blocking_client = True` (a class attribute, not a capability: it changes how the case is
driven, not which cases run) says the engine's broker client blocks its caller and reads
on threads of its own, as IBKR's ibapi does: the wire driver then serves the gateway from a
thread and calls `catch_up()` at every step (drivers.py, `WireDriver`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Final, final

from ibguard.engine.model import Instrument, OrderRequest
from ibguard.engine.ports import BrokerPort

if TYPE_CHECKING:
    from ibguard.rules.settings import Settings

__all__ = [
    "ALL_CAPABILITIES",
    "FLATTEN",
    "HEALTH",
    "HEALTH_HTTP",
    "LOG_FILES",
    "LOG_RECORDS",
    "RESTART",
    "SOURCE",
    "TWS_RATE_LIMIT",
    "Endpoint",
    "HealthView",
    "InProcessEndpoint",
    "OrderView",
    "Subject",
    "WireEndpoint",
]

FLATTEN: Final = "flatten"  # flatten(reason) closes every position (FAIL-01..03, FAIL-07)
HEALTH: Final = "health"  # health() reports position mismatches (OPS-02)
HEALTH_HTTP: Final = "health_http"  # health_url() serves that over real HTTP (OPS-02)
RESTART: Final = "restart"  # restart() loses in-memory state (CONN-02, FAIL-06)
LOG_FILES: Final = "log_files"  # log_to(directory, ...) writes rotated files (OPS-01)
SOURCE: Final = "source"  # source_config() names the [tool.ibguard] to check (BOUNDARY-*)
LOG_RECORDS: Final = "log_records"  # log_records() gives each record's fields too
# what the cases require; HEALTH_HTTP (an upgrade of HEALTH) and LOG_RECORDS (of log_codes)
# are upgrades a subject opts into: cases check more with them
ALL_CAPABILITIES: Final = frozenset({FLATTEN, HEALTH, RESTART, LOG_FILES, SOURCE})


TWS_RATE_LIMIT: Final = 50
"""Messages per second TWS accepts from one client before error 100 (IB's documented limit)."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class InProcessEndpoint:
    """The broker as a `BrokerPort` in this process: call `connector()` for a fresh port
    (one per connection; a restart asks for another). `local_clock` is the host's wall
    clock as the case controls it: use it wherever the engine would read the real one.
    `rate_limit` is the broker's message limit per second (TWS's 50 unless a case raises
    it: EDGE-04 plays 200/s); an engine configured with a lower throttle is safe, one at
    the limit shows EDGE-04's "50 queued" exactly."""

    connector: Callable[[], BrokerPort]
    client_id: int
    account: str
    local_clock: Callable[[], datetime]
    rate_limit: int = TWS_RATE_LIMIT


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WireEndpoint:
    """A fake TWS gateway on a socket: connect an unmodified ib_async/ib_insync engine to
    host:port with client_id (`rate_limit`: see InProcessEndpoint)."""

    host: str
    port: int
    client_id: int
    account: str
    local_clock: Callable[[], datetime]
    rate_limit: int = TWS_RATE_LIMIT


Endpoint = InProcessEndpoint | WireEndpoint


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderView:
    """An order as the kit reads it, for subjects whose engine has no such view of its own.
    `status` is one of NEW, SUBMITTED, WORKING, PARTIALLY_FILLED, CANCEL_PENDING, FILLED,
    CANCELED, REJECTED."""

    status: str
    filled: Decimal
    avg_fill_price: Decimal | None = None
    perm_id: int | None = None
    recovered: bool = False
    pending_reconcile: bool = False


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HealthView:
    """`failed` names the failed checks (OPS-02's names are in the catalog and
    docs/cases.md). Without it the names are read from `reasons` written as "name: why" (or
    the bare name)."""

    healthy: bool
    reasons: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()

    def failed_checks(self) -> tuple[str, ...]:
        if self.failed:
            return self.failed
        return tuple(reason.partition(":")[0].strip() for reason in self.reasons)


class Subject(ABC):
    """One engine under test. A fresh subject is built for every case."""

    capabilities: frozenset[str] = frozenset()
    blocking_client: ClassVar[bool] = False  # see the module doc and catch_up()

    @abstractmethod
    def start(self, endpoint: Endpoint) -> None:
        """Build the engine, connect it to `endpoint`, and return once it is ready to trade."""

    @abstractmethod
    def submit(self, oms_id: str, request: OrderRequest) -> None:
        """The strategy asks for an order under its own id."""

    @abstractmethod
    def cancel(self, oms_id: str) -> None:
        """The strategy asks to cancel one of its orders."""

    @abstractmethod
    def tick(self, local_time: datetime) -> None:
        """Time passes: `local_time` is what the host's wall clock reads now. Run timers,
        schedules (EOD flatten, overnight check) and reconnects as the engine would."""

    @abstractmethod
    def order(self, oms_id: str) -> object | None:
        """The engine's view of one order (see the module doc), None when unknown."""

    @abstractmethod
    def position(self, instrument: Instrument) -> Decimal:
        """The strategy's signed position (foreign orders left out)."""

    @property
    @abstractmethod
    def halted(self) -> bool:
        """True once the engine has stopped trading."""

    @abstractmethod
    def log_codes(self) -> Sequence[str]:
        """Every log code the engine emitted since start (across restarts), in order."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Release what start() acquired (connections, files). Called after every case."""

    def catch_up(self, messages: int) -> None:
        """Subjects with `blocking_client = True` only. The gateway has written `messages`
        API messages on the subject's newest connection since its handshake (the server
        version, which the client's connect reads itself), the connection's end counting as
        one more once it is closed: return once the engine has handled every one of them,
        waiting for the client's reader thread where it has not queued them yet (a connection
        the subject closed itself has nothing more to wait for). Called on the test thread
        at every step of the case."""
        raise NotImplementedError(
            "blocking_client subjects implement catch_up(messages): the kit cannot see "
            "into the client's threads (see docs/ibapi-subject.md)"
        )

    # --- optional, each behind a capability -------------------------------------------

    def flatten(self, reason: str) -> None:
        raise NotImplementedError(FLATTEN)

    def log_records(self) -> Sequence[Mapping[str, object]]:
        """Every log record with a code since start (across restarts), in order: a mapping
        with `code` and the record's fields (the ids and values it carries; `alert=True`
        on a record that also raised an operator alert)."""
        raise NotImplementedError(LOG_RECORDS)

    def restart(self) -> None:
        """The process restarts: in-memory state is lost, the engine connects again."""
        raise NotImplementedError(RESTART)

    def health(self) -> HealthView:
        raise NotImplementedError(HEALTH)

    def health_url(self) -> str:
        """The URL of the engine's real /health endpoint (200 healthy, 503 unhealthy with
        a JSON body listing the failed checks); the kit reads it over HTTP."""
        raise NotImplementedError(HEALTH_HTTP)

    def log_to(self, directory: Path, *, max_bytes: int, backups: int) -> None:
        """Write the engine's log records to rotated files in `directory`."""
        raise NotImplementedError(LOG_FILES)

    def source_config(self) -> Path | Settings:
        """The pyproject.toml whose [tool.ibguard] engine/connector globs name the engine's
        source (or ready `ibguard.rules` settings)."""
        raise NotImplementedError(SOURCE)
