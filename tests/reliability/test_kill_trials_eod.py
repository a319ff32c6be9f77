"""A plain SIGTERM restart across the EOD moment (issue 11, finding 1), with the real
`ibguard engine run` over the fake gateway: the flatten that fell due while the service was
down is done once the new broker session is up and reconciled, exactly once; a flatten the
broker refuses keeps /health unhealthy, naming it, instead of being forgotten."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ibguard.kit.sim import WhatIfAnswer

from tests.reliability.test_kill_trials import (
    OURS,
    SYMBOLS,
    Account,
    Service,
    Trials,
    _log_codes,
    forkserver,  # noqa: F401 - the fixture
)


def _until(condition: Callable[[], bool], service: Service, what: str, seconds: float = 15) -> None:
    """Wait for `condition`, waking on the service's exit or every 20 ms."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        assert service.process.is_alive(), f"service died waiting for {what}"
        service.process.join(0.02)
    raise AssertionError(f"{what}: not within {seconds}s")


def _restarted_after_eod(trials: Trials, directory: Path, account: Account) -> Service:
    """Run the service before the EOD moment, SIGTERM it, restart it after the moment."""
    first = trials.spawn(directory, None, account.gateway.port)
    _until(lambda: "RECONCILE_DONE" in _log_codes(first.logs), first, "first run reconciled")
    assert account.broker_time() < account.eod, "the first run must end before EOD"
    assert first.stop() == 0
    assert "FLATTEN_STARTED" not in _log_codes(first.logs)
    # the moment passes while nothing runs: the journal's last tick lies before it
    while account.broker_time() < account.eod + timedelta(seconds=0.2):
        first.process.join(0.02)  # already ended: returns at once, a 20 ms pause otherwise
    return trials.spawn(directory, None, account.gateway.port)


def test_a_sigterm_restart_across_eod_flattens_once_the_session_is_up(
    forkserver: Any,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    account = Account.open(lead=2.5)
    try:
        service = _restarted_after_eod(Trials(tmp_path, forkserver), tmp_path, account)
        _until(lambda: account.snapshot().flat, service, "flat at the broker")
        _until(lambda: service.health() == 200, service, "healthy")
        view = account.snapshot()
        assert service.stop() == 0
    finally:
        account.close()
    assert view.positions == dict.fromkeys(SYMBOLS, Decimal(0))
    flatten_orders = [ref for ref in view.refs if ref.startswith(OURS + "flatten")]
    assert len(flatten_orders) == 2  # AAPL and MSFT, once each (TSLA never filled)
    assert all(count == 1 for count in view.refs.values())


def test_a_flatten_the_broker_refuses_keeps_health_unhealthy_naming_it(
    forkserver: Any,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    account = Account.open(lead=2.5)
    try:
        account.gateway.call(
            account.broker.set_what_if, WhatIfAnswer(margin_ok=False, warning="margin deficit")
        )
        service = _restarted_after_eod(Trials(tmp_path, forkserver), tmp_path, account)

        def flatten_check() -> dict[str, Any] | None:
            status, body = service.health_report()
            checks = {check["name"]: check for check in body.get("checks", ())}
            return checks.get("flatten") if status == 503 else None

        logs = tmp_path / "logs"
        _until(lambda: "FLATTEN_ABORTED" in _log_codes(logs), service, "flatten refused")
        check = flatten_check()  # failed now, no longer only due
        view = account.snapshot()
        assert service.stop() == 0
    finally:
        account.close()
    assert check is not None
    assert not check["ok"]
    assert check["reason"]  # says what is wrong, for the operator
    assert view.positions["AAPL"] == 100  # nothing was sent: margin said no (FAIL-07)
    assert not [ref for ref in view.refs if ref.startswith(OURS + "flatten")]
