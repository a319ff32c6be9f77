"""Fair play: a case that cannot be set up against a subject skips with the reason, CONN-03
accepts engines that ask the broker early, and PERF-02 says where the time went and what to
do when the client library is the cost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ibguard.kit.matrix.drivers import InProcessDriver, WireDriver
from ibguard.kit.matrix.reference import ReferenceSubject
from ibguard.kit.matrix.runner import play
from ibguard.kit.matrix.stage import CaseFailure, CaseNotPlayable

from tests.matrix.test_wire_team_subject import TeamSubject


def test_fail_05_skips_when_the_client_never_lets_an_order_id_be_reused() -> None:
    """ib_async moves its next orderId past every open order it sees, so the broker's
    rolled-back id is never used: a correct engine on it cannot be judged, not failed."""
    lib = pytest.importorskip("ib_async")
    with pytest.raises(CaseNotPlayable, match="FAIL-05 cannot be set up"):
        play("FAIL-05", lambda: TeamSubject(lib), WireDriver)


def test_conn_03_passes_an_engine_that_polls_open_orders_before_the_threshold() -> None:
    play("CONN-03", lambda: ReferenceSubject(stale_after=timedelta(seconds=60)), InProcessDriver)


def test_conn_03_fails_an_engine_that_lets_an_order_stay_silent() -> None:
    with pytest.raises(CaseFailure, match="stayed silent 330 s without the engine asking"):
        play("CONN-03", lambda: ReferenceSubject(stale_after=timedelta(hours=1)), InProcessDriver)


def test_perf_02_names_the_client_library_and_the_remedy() -> None:
    lib = pytest.importorskip("ib_async")
    with pytest.raises(CaseFailure) as failure:
        play("PERF-02", lambda: TeamSubject(lib), WireDriver)
    message = str(failure.value)
    assert "below 100/s; time went to: engine " in message
    assert "the TWS client library is the cost" in message
    assert "execDetailsEvent" in message
