"""Each deliberately broken engine fails exactly the cases (and variants: `LIFE-03[sell]`) its
bug is about."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from ibguard.kit.matrix.catalog import case, variant_ids
from ibguard.kit.matrix.drivers import InProcessDriver
from ibguard.kit.matrix.runner import play
from ibguard.kit.matrix.stage import CaseFailure
from ibguard.kit.matrix.subject import Subject

from tests.matrix.broken_engines import duplicate_exec_ids, order_id_keys, resubmit_on_reconnect
from tests.matrix.broken_engines.inactive import BROKEN_INACTIVE
from tests.matrix.broken_engines.next_cases import BROKEN_NEXT
from tests.matrix.broken_engines.one_case import BROKEN_ALONE
from tests.matrix.broken_engines.variants import BROKEN as BROKEN_SEED

pytestmark = pytest.mark.untraced  # replays engine lines tests/engine traces (tests/conftest.py)

BROKEN = {**BROKEN_SEED, **BROKEN_NEXT, **BROKEN_ALONE, **BROKEN_INACTIVE}

FAST = [t for t in variant_ids() if case(t).category not in ("PERF", "BOUNDARY")]

CAUGHT_BY = {  # broken engine -> exactly the cases that catch its bug
    "trusts-host-clock": {"CONN-05"},
    "stamps-fills-locally": {"CONN-05"},
    "ignores-326": {"CONN-04", "CONN-08"},
    "no-stale-timer": {"CONN-03"},
    "retries-refused-cancels": {
        "LIFE-01",
        "LIFE-02",
        "LIFE-11[10148]",
        "LIFE-11[10147]",
        "LIFE-11[161]",
    },
    "drops-fills-after-cancel": {"LIFE-03[buy]", "LIFE-03[sell]"},
    "forgets-exec-ids-on-reconnect": {"LIFE-05[after-reconnect]", "RECON-02[reconnect]"},
    "float-prices": {"LIFE-04", "LIFE-07[price]"},
    "zero-is-one-share": {"LIFE-06"},
    "retries-rejected-orders": {"FAIL-01", "FAIL-02", "FAIL-03"},
    "cached-open-orders": {"FAIL-04"},
    "ignores-what-if": {"FAIL-07"},
    "every-order-is-ours": {"SEC-01", "SEC-03"},  # its flatten cancels them as its own
    "flattens-with-global-cancel": {"SEC-03"},
    "assumes-unanswered-orders-dead": {"CONN-01[lost]"},
    "ignores-account": {"SEC-02"},
    "stocks-may-go-negative": {"EDGE-01"},
    "ignores-contract-changes": {"EDGE-02"},
    "no-order-id-wrap": {"EDGE-03"},
    "no-throttle": {"EDGE-04"},
    "no-overnight-check": {"OPS-02"},
    # the decisions are logged by code only: the field checks catch it
    "codes-without-fields": {
        "CONN-05",
        "FAIL-01",
        "FAIL-02",
        "EDGE-04",
        "LIFE-07[price]",
        "LIFE-07[shares]",
        "LIFE-12",
        "LIFE-13[held]",
        "LIFE-13[cancel-while-held]",
        "LIFE-13[margin]",
        "LIFE-16[ioc-remainder]",
        "LIFE-16[oca-sibling]",
        "LIFE-16[gtd]",
        "LIFE-18",
        "CONN-06[data-lost]",
        "CONN-06[data-maintained]",
    },
    # the cases beyond the seed (next_cases.py)
    "corrections-add-up": {"LIFE-07[price]", "LIFE-07[shares]"},
    "errors-cancel-orders": {
        "LIFE-10[10349]",
        "LIFE-10[404]",
        "LIFE-10[399]",
        "LIFE-10[2109]",
        "LIFE-12",
        "LIFE-13[held]",  # the 404 that comes with the hold
        "LIFE-13[cancel-while-held]",
    },
    "only-requested-cancels": {  # FAIL-05's DAY order ends overnight
        "LIFE-16[ioc-remainder]",
        "LIFE-16[oca-sibling]",
        "LIFE-16[gtd]",
        "FAIL-05",
    },
    "one-broker-order-per-ref": {"LIFE-18"},
    "deaf-during-outage": {"CONN-06[data-lost]", "CONN-06[data-maintained]"},
    "ignores-1101": {"CONN-06[data-lost]"},
    "refused-cancel-is-done": {
        "LIFE-11[10148]",
        "LIFE-11[10147]",
        "LIFE-11[161]",
        "LIFE-02",
    },
    "fills-need-an-acknowledgement": {"LIFE-08"},
    "commissions-add-up": {"LIFE-09"},
    "reject-means-nothing-filled": {"LIFE-14[error-first]", "LIFE-14[status-first]"},
    "host-local-fill-times": {
        "EDGE-05[eastern]",
        "EDGE-05[met]",
        "EDGE-05[utc]",
        "EDGE-05[no-zone]",
        "CONN-05",
        "LIFE-05[after-reconnect]",
        "RECON-02[reconnect]",
    },
    "snapshot-positions-only": {"RECON-03"},
    "healthy-while-disconnected": {"OPS-03"},
    "invents-cancel-reject-on-drop": {"CONN-09[applied]", "CONN-09[lost]"},
    "cancels-only-once": {"CONN-09[lost]"},
    # a view built from the last orderStatus is wrong wherever statuses lag the fills
    "status-from-last-orderstatus": {
        "LIFE-17",
        "LIFE-13[held]",  # Inactive read as the end, whyHeld or not
        "LIFE-13[cancel-while-held]",
        "RECON-02[reconnect]",
        "CONN-09[applied]",
        "CONN-09[lost]",
        "LIFE-02",
        "LIFE-03[buy]",
        "LIFE-03[sell]",
        "LIFE-07[price]",
        "LIFE-07[shares]",
        "LIFE-11[10148]",
        "LIFE-11[10147]",
        "LIFE-18",
        "FAIL-04",
        "FAIL-05",
        "EDGE-01",
    },
    # one bug, one test id (#13: each new case and variant fails alone on some engine)
    "reconcile-matches-by-acked-ids": {"CONN-01[received]"},
    "late-buys-have-no-cash": {"LIFE-03[buy]"},
    "late-sells-need-inventory": {"LIFE-03[sell]"},
    "skips-replays-with-nothing-new": {"LIFE-05[after-reconnect]"},
    "replays-only-confirm": {"RECON-02[reconnect]"},
    "recovered-fills-counted-twice": {"RECON-02[restart]"},
    "waits-1101-to-end-outage": {"CONN-06[data-maintained]"},
    "recovery-ignores-errors": {"CONN-08"},
    "cancel-confirmed-only-by-status": {"CONN-09[applied]"},
    "corrections-keep-the-price": {"LIFE-07[price]"},
    "corrections-are-price-revisions": {"LIFE-07[shares]"},
    "notices-without-10349": {"LIFE-10[10349]"},
    # LIFE-13's hold comes with a 404 too (404-only-for-short-sales fails LIFE-10[404] alone)
    "notices-without-404": {
        "LIFE-10[404]",
        "LIFE-13[held]",
        "LIFE-13[cancel-while-held]",
    },
    "notices-without-399": {"LIFE-10[399]"},
    "notices-without-2109": {"LIFE-10[2109]"},
    "filled-state-closes-the-order": {"LIFE-11[10148]"},
    "not-found-means-cancelled": {"LIFE-11[10147]"},
    "not-cancellable-means-cancelled": {"LIFE-11[161]"},
    "reuses-refused-ids": {"LIFE-12"},
    "reject-ends-a-live-order": {"LIFE-14[error-first]"},
    "last-word-wins": {"LIFE-14[status-first]"},
    "eastern-is-est": {"EDGE-05[eastern]"},
    "area-city-zones-only": {"EDGE-05[met]"},
    "strptime-zone": {"EDGE-05[utc]"},
    "zoneless-is-utc": {"EDGE-05[no-zone]"},
    "tops-up-unsolicited-cancels": {"LIFE-16[ioc-remainder]"},
    "replaces-server-cancels": {"LIFE-16[oca-sibling]"},
    "gtd-expiry-is-a-reject": {"LIFE-16[gtd]"},
    "filled-zero-means-nothing": {"LIFE-17"},
    "gives-up-on-held-orders": {"LIFE-13[held]"},
    "cancel-of-inactive-is-done": {"LIFE-13[cancel-while-held]"},
    "acked-orders-end-only-by-cancel-or-fill": {"LIFE-13[margin]"},
    "404-only-for-short-sales": {"LIFE-10[404]"},
}


@functools.cache
def _failing(factory: Callable[[], Subject]) -> frozenset[str]:
    """The fast cases `factory`'s engine fails in-process: played once per engine and shared
    by every test here."""
    failed = set()
    for test_id in FAST:
        try:
            play(test_id, factory, InProcessDriver)
        except CaseFailure:
            failed.add(test_id)
    return frozenset(failed)


EARLIER: dict[str, tuple[Callable[[], Subject], set[str]]] = {  # their own modules
    "duplicate-exec-ids": (duplicate_exec_ids.make_subject, {"LIFE-05[live]"}),
    "keyed-by-order-id": (
        order_id_keys.make_subject,
        {"CONN-01[received]", "CONN-02", "FAIL-05", "FAIL-06", "LIFE-08", "RECON-02[restart]"},
    ),
    "resubmit-on-reconnect": (
        resubmit_on_reconnect.make_subject,
        {"CONN-01[received]", "CONN-01[lost]"},
    ),
}


@pytest.mark.parametrize("name", sorted(EARLIER))
def test_broken_engine_fails_exactly(name: str) -> None:
    factory, expected = EARLIER[name]
    assert _failing(factory) == expected


@pytest.mark.parametrize("name", sorted(CAUGHT_BY))
def test_small_broken_engine_fails_exactly(name: str) -> None:
    assert _failing(BROKEN[name]) == CAUGHT_BY[name]


def test_every_behavioural_case_and_variant_catches_some_broken_engine() -> None:
    caught = set().union(*CAUGHT_BY.values(), *(expected for _, expected in EARLIER.values()))
    behavioural = ("CONN", "LIFE", "FAIL", "RECON", "SEC", "EDGE")
    wanted = {t for t in variant_ids() if case(t).category in behavioural}
    assert wanted - caught == set()
    assert set(CAUGHT_BY) == set(BROKEN)


def test_each_new_case_and_variant_has_a_broken_engine_that_fails_exactly_it() -> None:
    """#13: a case beyond the seed's 30, or a variant of any case, is proved by an engine
    whose one bug only it catches (played, not read from CAUGHT_BY)."""
    wanted = [t for t in variant_ids() if not case(t).seed or "[" in t]
    factories = [*BROKEN.values(), *(factory for factory, _ in EARLIER.values())]
    alone = {next(iter(failed)) for failed in map(_failing, factories) if len(failed) == 1}
    assert [t for t in wanted if t not in alone] == []


def test_reference_engine_passes_the_fast_cases() -> None:
    from ibguard.kit.matrix.reference import make_subject

    assert _failing(make_subject) == set()
