"""The text `ibguard init` writes besides the TOML tables (those come from
`ibguard.contracts.templates`). Placeholders are `@NAME@`, filled by `fill`."""

from __future__ import annotations

from typing import Final

__all__ = ["PRE_COMMIT_ENTRY", "SUBJECT", "WORKFLOW", "fill"]

REPOSITORY: Final = "https://github.com/ibguard/ibguard"


def fill(template: str, **values: str) -> str:
    for name, value in values.items():
        template = template.replace(f"@{name.upper()}@", value)
    return template


PRE_COMMIT_ENTRY: Final = f"""@INDENT@- repo: {REPOSITORY}
@INDENT@  rev: @REV@
@INDENT@  hooks:
@INDENT@    - id: ibguard-check
@INDENT@    - id: ibguard-contracts
"""

WORKFLOW: Final = """# Written by `ibguard init`. Make the "ibguard / ibguard gate" check required
# in a branch protection rule (or ruleset) for the default branch: a red gate blocks merges.
name: ibguard

on:
  pull_request:
  push:
    branches: [main]

permissions:
  contents: read

jobs:
  ibguard:
    uses: ibguard/ibguard/.github/workflows/ibguard-gate.yml@v@VERSION@
    permissions:
      contents: read
      security-events: write
      actions: read
    with:
      python-version: "@PYTHON@"
      install: @INSTALL@
      ibguard: ibguard==@VERSION@
@WORKING_DIRECTORY@"""

SUBJECT: Final = '''"""The ibguard matrix subject for the @PACKAGE@ engine (from `ibguard init`).

The matrix builds a fresh subject for every case, starts it against a simulated IB account
and drives it through these methods; what can be seen at the broker (orders placed, cancels
sent, message rate) is observed there, so it needs nothing from you. Replace every
NotImplementedError below; each docstring says what the kit expects.

With `driver = "wire"` (in [tool.ibguard]) `start` gets a WireEndpoint: a fake TWS gateway on
host:port, so your engine connects with @LIBRARY@ exactly as it connects to TWS. Declare in
`capabilities` the optional methods you implement (flatten, restart, health, log_files,
source, log_records); cases needing the others are skipped with the reason.
Model to copy: ibguard.kit.matrix.reference (the reference engine's subject).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from ibguard.engine.model import Instrument, OrderRequest
from ibguard.kit.matrix.subject import Endpoint, Subject, WireEndpoint


class @CLS@(Subject):
    capabilities: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.engine: object | None = None  # your engine, built in start()

    def start(self, endpoint: Endpoint) -> None:
        """Build the engine, connect it to the endpoint, return once it is ready to trade."""
        if not isinstance(endpoint, WireEndpoint):
            raise TypeError('this subject connects by host and port: set driver = "wire"')
        # e.g. ib = @LIBRARY@.IB()
        #      ib.connect(endpoint.host, endpoint.port, clientId=endpoint.client_id)
        #      self.engine = YourEngine(ib, account=endpoint.account, now=endpoint.local_clock)
        raise NotImplementedError("start: connect the engine to endpoint.host:endpoint.port")

    def submit(self, oms_id: str, request: OrderRequest) -> None:
        """The strategy asks for an order under its own id (request: instrument, side,
        quantity, limit price, time in force; Decimal numbers)."""
        raise NotImplementedError("submit: hand the order request to the engine")

    def cancel(self, oms_id: str) -> None:
        """The strategy asks to cancel one of its orders."""
        raise NotImplementedError("cancel: ask the engine to cancel oms_id")

    def tick(self, local_time: datetime) -> None:
        """Time passes (local_time is the host's wall clock now): run the engine's timers,
        schedules and reconnects, and let it process what the broker sent (e.g. ib.sleep(0))."""
        raise NotImplementedError("tick: let the engine run its timers and read the socket")

    def order(self, oms_id: str) -> object | None:
        """The engine's view of one order, None when unknown: an object with status, filled,
        avg_fill_price, perm_id, recovered, pending_reconcile
        (ibguard.kit.matrix.subject.OrderView builds one)."""
        raise NotImplementedError("order: return the engine's order view, or None")

    def position(self, instrument: Instrument) -> Decimal:
        """The strategy's signed position in the instrument (foreign orders left out)."""
        raise NotImplementedError("position: return the engine's position")

    @property
    def halted(self) -> bool:
        """True once the engine has stopped trading."""
        raise NotImplementedError("halted: return whether the engine refuses new orders")

    def log_codes(self) -> Sequence[str]:
        """Every log code the engine emitted since start, in order (the matrix asserts on
        codes such as ORPHAN_FILL, never on wording)."""
        raise NotImplementedError("log_codes: return the codes of the engine's log records")

    def stop(self) -> None:
        """Release what start() acquired (disconnect)."""


def make_subject() -> Subject:
    return @CLS@()

'''
