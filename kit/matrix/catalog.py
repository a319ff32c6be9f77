"""The case catalog as data: the single source for test ids, reports and docs.

Owns `Case` (id, category, name, trigger, expected, code, cost, variants) and `CASES`, in
the order of CASES.md, and the named case sets a team can pin its gate to (`CASE_SETS`:
"seed-30" is the seed's catalog, "all" every case). Invariants: ids are unique and of the
form `CATEGORY-NN`; every category is one of `CATEGORIES`; a case played in several
variants names them (each is its own test, `LIFE-03[short]`). The behaviour behind each id
lives in the `cases_*` modules; `docs/cases.md` is rendered from this module (see
`docs_page.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, final

from ibguard.errors import InternalError, UsageError

__all__ = ["CASES", "CASE_SETS", "CATEGORIES", "DEFAULT_CASE_SET", "Case", "case", "variant_ids"]

CATEGORIES: Final = ("CONN", "LIFE", "FAIL", "RECON", "BOUNDARY", "PERF", "SEC", "OPS", "EDGE")
_ID: Final = re.compile(r"\A([A-Z]+)-(\d{2})\Z")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    id: str
    name: str
    trigger: str
    expected: str
    code: str  # the log code the case expects ("" when none; "rule finding" for BOUNDARY)
    cost: str
    variants: tuple[str, ...] = ()  # each played as its own test: "LIFE-03[short]"
    seed: bool = True  # one of the seed's 30 (CASES.md); later cases are not
    evidence: str = ""  # public issues, PRs or docs showing the behaviour (later cases)
    wire: str = ""  # what the wire driver adds over in-process ("required: ..." when only it can)

    def __post_init__(self) -> None:
        match = _ID.match(self.id)
        if match is None or match.group(1) not in CATEGORIES:
            raise UsageError(f"case id {self.id!r} is not CATEGORY-NN with a known category")

    @property
    def category(self) -> str:
        return self.id.split("-", 1)[0]

    @property
    def test_ids(self) -> tuple[str, ...]:
        """One test id per variant (the bare id when the case has none)."""
        return tuple(f"{self.id}[{v}]" for v in self.variants) or (self.id,)

    @property
    def codes(self) -> tuple[str, ...]:
        """The log codes named by `code` (it may name several, comma-separated)."""
        return tuple(c.strip() for c in self.code.split(",") if c.strip().isupper())


def _c(
    *fields: str,
    variants: tuple[str, ...] = (),
    seed: bool = True,
    evidence: str = "",
    wire: str = "",
) -> Case:
    id, name, trigger, expected, code, cost = fields
    return Case(
        id=id,
        name=name,
        trigger=trigger,
        expected=expected,
        code=code,
        cost=cost,
        variants=variants,
        seed=seed,
        evidence=evidence,
        wire=wire,
    )


CASES: Final[tuple[Case, ...]] = (
    _c(
        "CONN-01",
        "Mid-submit disconnect",
        "placeOrder sent, socket dies before any answer; the broker received it, or it did not.",
        "No automatic resubmission; NEW until reconcile; received: recovered with broker ids; "
        "lost: stays NEW. Never two live broker orders for one oms_id.",
        "SUBMIT_PENDING, RECONCILE_NO_BROKER_RECORD",
        "duplicate orders, $50k-$1M",
        variants=("received", "lost"),
    ),
    _c(
        "CONN-02",
        "Orphan fill on startup",
        "Engine restarts; an execDetails arrives for an order of ours it has no record of.",
        "Order synthesized from the execution (FILLED or PARTIALLY_FILLED), recovered=True; "
        "position updated exactly once.",
        "ORPHAN_FILL",
        "wake up long 5000 shares",
    ),
    _c(
        "CONN-03",
        "Stale working order",
        "An order WORKING for more than the stale threshold (5 min broker time) with no event.",
        "pending_reconcile=True, open orders requested; the flag clears when the answer "
        "is applied.",
        "STATUS_STALE",
        "capital frozen",
    ),
    _c(
        "CONN-04",
        "Same clientId twice",
        "Broker answers error 326 (client id in use) at connect.",
        "Engine halts: refuses new orders, sends nothing further, no reconnect loop.",
        "CONNECTION_STOLEN",
        "random fills",
    ),
    _c(
        "CONN-05",
        "Clock skew > 30 s",
        "Local clock 47.3 s behind broker time.",
        "Skew measured and logged; times stored in broker time; EOD flatten at broker 15:50:00.",
        "TIME_SKEW",
        "EOD flatten at the wrong time",
    ),
    _c(
        "CONN-06",
        "TWS-IB connectivity lost, then restored (1100 -> 1101/1102)",
        "Error 1100 (reqId -1) mid-session; while the link is lost the broker still delivers "
        "executions for 2 working orders and the strategy submits; then 1101 (restored, data "
        "lost) or 1102 (data maintained). The API socket stays up.",
        "Inbound events are applied during the outage, never dropped; nothing is placed while "
        "TWS has no link to IB; on 1101 a full reconcile (open orders, executions) runs.",
        "CONNECTION_LOST, CONNECTION_RESTORED",
        "fills lost for good and positions wrong; dead feeds while heartbeats look fine",
        variants=("data-lost", "data-maintained"),
        evidence=(
            "QuantConnect/Lean.Brokerages.InteractiveBrokers#249; erdewit/ib_insync#256; "
            "IbcAlpha/IBC#143; IB error table (1100/1101/1102)"
        ),
        wire="yes: ib_async handles 1102 with reqAccountSummary only and ignores 1101",
        seed=False,
    ),
    _c(
        "CONN-08",
        "clientId stuck after a crash",
        "The engine is killed with 2 working orders; on restart the gateway still holds "
        "the configured clientId and answers 326 (no fallback clientId configured).",
        "Halted: nothing sent, no reconnect loop on the stuck id (at most one retry), an "
        "alert; the two working orders are left as they are at the broker (no duplicate "
        "placed).",
        "CONNECTION_STOLEN",
        "working orders nobody can cancel; the gateway restarted under pressure",
        evidence=(
            "ib-api-reloaded/ib_async#152 (the gateway won't release the client id); nautilus"
            " client/error.py (326); IB docs cancel_order.html"
        ),
        wire="required: 326 exists only as a closed socket and error text at the handshake",
        seed=False,
    ),
    _c(
        "CONN-09",
        "Cancel in flight when the socket dies",
        "cancelOrder is written and the socket drops before any reply; the broker applied"
        " the cancel, or never got it.",
        "No cancel rejection is invented: CANCEL_PENDING, outcome unknown. After "
        "reconnect the reconcile decides: applied -> CANCELED; lost -> the cancel is "
        "re-sent once (still wanted, order still live), then CANCELED. Never two live "
        "broker orders.",
        "",
        "the strategy believes a stop was cancelled when it was not",
        variants=("applied", "lost"),
        evidence=(
            "nautilus spec_exec_testing.md 'Ambiguous outcome failures' (TC-E75/E76); "
            "QuantConnect/Lean.Brokerages.InteractiveBrokers#242"
        ),
        wire="yes: the reconnect and reconcile path of the client",
        seed=False,
    ),
    _c(
        "LIFE-01",
        "Cancel already filled",
        "Cancel after the final fill; and the race: cancel sent, fill arrives, cancel refused.",
        "No cancel sent for a FILLED order; a refused cancel leaves the order FILLED.",
        "CANCEL_IGNORED",
        "broker warning spam",
    ),
    _c(
        "LIFE-02",
        "Cancel of an already-cancelled order",
        "Broker answers the cancel with 'already cancelled'.",
        "Order marked CANCELED (broker wins), no retry loop.",
        "CANCEL_REDUNDANT",
        "stuck in limbo",
    ),
    _c(
        "LIFE-03",
        "Fill after cancelled",
        "Cancel confirmed, then an execution that happened before the cancel arrives; on a "
        "BUY (long) or a SELL (short).",
        "Fill accepted; FILLED when complete, otherwise CANCELED with the filled quantity; "
        "position updated with the fill's sign.",
        "FILL_AFTER_CANCEL",
        "wrong P&L",
        variants=("buy", "sell"),
    ),
    _c(
        "LIFE-04",
        "VWAP across partials",
        "10 partial fills at different prices.",
        "avg_fill_price exactly equals sum(qty*price)/sum(qty) in Decimal.",
        "",
        "P&L drift",
    ),
    _c(
        "LIFE-05",
        "Duplicate execDetails",
        "Same execId delivered twice: on the live session, or replayed by the executions "
        "request after a reconnect.",
        "Second one ignored; filled quantity and position counted once.",
        "FILL_DUPLICATE",
        "inflated position",
        variants=("live", "after-reconnect"),
    ),
    _c(
        "LIFE-06",
        "Zero-quantity fill",
        "Execution with shares = 0.",
        "Ignored; nothing changes.",
        "FILL_ZERO_QTY",
        "noise, divide-by-zero",
    ),
    _c(
        "LIFE-07",
        "Execution correction (.01 -> .02)",
        "A fill of 30 is corrected: the same execution with its last .NN bumped, at a new "
        "price (or for 25 shares), with its own commission report.",
        "The correction replaces the fill, it is not added: filled stays 30 (25), the VWAP "
        "and the position follow the corrected execution.",
        "FILL_CORRECTED",
        "position and P&L off by a whole fill (the clients add up every execution)",
        variants=("price", "shares"),
        evidence=(
            "erdewit/ib_insync#364; IB Execution.execId doc (.02 corrects .01); ib_async "
            "order.py Trade.filled() sums execution.shares"
        ),
        wire="useful: ib_async Trade.filled() double-counts a correction",
        seed=False,
    ),
    _c(
        "LIFE-08",
        "Fill before acknowledgement",
        "A marketable order: execDetails and its commissionReport arrive first, openOrder"
        " and orderStatus after.",
        "The fill is applied at once, matched by orderRef (else clientId+orderId); the "
        "permId is learned from the execution; FILLED with filled 100; the late openOrder"
        " changes nothing.",
        "",
        "the fill is lost silently and the order cancelled locally as a phantom while the"
        " position is real",
        evidence=(
            "nautechsystems/nautilus_trader#3949, #3976, #3958; "
            "QuantConnect/Lean.Brokerages.InteractiveBrokers#189; ib_async wrapper.py "
            "execDetails (no trade found: no event)"
        ),
        wire="required: without openOrder ib_async fires no fill and no commission event",
        seed=False,
    ),
    _c(
        "LIFE-09",
        "Commission reported twice, re-sent, or carrying sentinels",
        "The commissionReport of an execution arrives twice, one with realizedPNL = "
        "1.797E308 (IB's unset); another execution's commission is revised to a rebate "
        "(-0.35); after a reconnect reqExecutions re-sends every report.",
        "Commission is a value per execId (set, not added): each fill's commission "
        "counted once; the unset sentinel never reaches P&L; negative commissions are "
        "kept.",
        "",
        "fees double-counted on every reconnect; P&L off by 1.8e308",
        evidence=(
            "ib_async wrapper.py commissionReport (no dedupe); blampe/IbPy#35; wboayue/rust-"
            "ibapi#788, #811; nautechsystems/nautilus_trader#4281"
        ),
        wire="required for the re-send on reqExecutions, which the client does itself",
        seed=False,
    ),
    _c(
        "LIFE-10",
        "Informational codes never end an order",
        "Right after placeOrder the broker sends a notice with the order's id (10349 TIF set "
        "to DAY, 404 held for a locate, 399 order message: not placed at the exchange until "
        "the open, 2109 outsideRth ignored); the order works, then fills.",
        "The order stays WORKING, the fill is applied, no resubmit; only a Cancelled/Inactive "
        "status or a reject code ends an order.",
        "",
        "the client marks the order Cancelled; a resubmit got 15 fills for a 1-lot intent",
        variants=("10349", "404", "399", "2109"),
        evidence=(
            "ib-api-reloaded/ib_async#191, #217 (10349 -> Cancelled while the order fills); "
            "erdewit/ib_insync#328 (404); QuantConnect/Lean#1026"
        ),
        wire="required: ib_async sets Cancelled on 10349 (its warning list has 399, 404 and "
        "2100-2199)",
        seed=False,
    ),
    _c(
        "LIFE-11",
        "Cancel refused: 10148 / 10147 / 161",
        "The strategy's cancel is refused: 10148 'cannot be cancelled, state: Filled' (the "
        "broker filled it and the news was lost); 10147 'OrderId ... not found' for an order "
        "the broker filled earlier; 161 'not in a cancellable state' while the order is "
        "PreSubmitted, which then works and fills.",
        "Never CANCELED: 10148 and 10147 resolve to FILLED with the fill and the position "
        "(the broker is asked), the cancel not repeated; 161 leaves the order live (WORKING), "
        "then FILLED, with at most one retry.",
        "",
        "an order believed cancelled while it filled leaves an unhedged position; cancel spam",
        variants=("10148", "10147", "161"),
        evidence=(
            "erdewit/ib_insync#656, #690; QuantConnect/Lean.Brokerages.InteractiveBrokers#248; "
            "deephaven-examples/deephaven-ib#59; wboayue/rust-ibapi#312; IB error table "
            "(10147, 10148, 161)"
        ),
        wire="required: ib_async sets Cancelled on 10148, 10147 and 161",
        seed=False,
    ),
    _c(
        "LIFE-12",
        "Duplicate order id (103)",
        "An order is sent with an orderId this clientId already used today; the broker "
        "answers only error 103 with that id.",
        "The order is not placed (NEW or REJECTED, no fill expected); the other order is "
        "untouched; the next order gets an id past the duplicate and is placed.",
        "ORDER_ID_DUPLICATE",
        "the new order is lost silently, or its events are mixed with the old one's",
        evidence=(
            "erdewit/ib_insync#644, #308; wboayue/rust-ibapi#350; IbcAlpha/IBC#214; IB "
            "error table (103)"
        ),
        wire="required: ib_async sets Cancelled on 103",
        seed=False,
    ),
    _c(
        "LIFE-13",
        "Inactive is not always final",
        "A short sale SELL 100: error 404 and orderStatus Inactive with whyHeld 'locate', "
        "then Submitted and a fill two minutes later (held); or a cancel requested while it "
        "is held, a fill of 40 100 ms before the broker's Cancelled (cancel-while-held); or "
        "the working order fails its margin check: error 201, then a bare Inactive (margin).",
        "held: stays live (WORKING) and the fill is applied, no resubmit. cancel-while-held: "
        "CANCEL_PENDING until the broker confirms (a cancel request alone never ends an "
        "order), then CANCELED with the 40 kept. margin: REJECTED with the 201 reason, "
        "nothing filled, not re-sent.",
        "ORDER_INACTIVE, ORDER_REJECTED",
        "a held short treated as dead, resubmitted: double position; margin rejects "
        "unnoticed and the order stuck as working",
        variants=("held", "cancel-while-held", "margin"),
        evidence=(
            "nautechsystems/nautilus_trader#3603 (what Inactive means), #3723 (locate); "
            "erdewit/ib_insync#363 (cancelling an Inactive order sets Cancelled at once: a "
            "~100 ms window where it could fill), #559"
        ),
        wire="yes: whyHeld travels in orderStatus; ib_async sets Cancelled on 201 and 404",
        seed=False,
    ),
    _c(
        "LIFE-14",
        "Rejection after a partial fill",
        "BUY 100; execDetails 40 @ 99.00; then error 201 'Order rejected - reason:' with "
        "the order's id and orderStatus Cancelled, filled 40 remaining 60 (or the status "
        "before the error).",
        "CANCELED with filled 40, never REJECTED (which means nothing filled); position "
        "+40 kept, VWAP unchanged, the remainder not re-sent.",
        "",
        "the 40 are forgotten, or the order is re-sent for 100: 140 bought",
        variants=("error-first", "status-first"),
        evidence=(
            "nautilus model/orders/base.pyx _ORDER_STATE_TABLE (no PARTIALLY_FILLED -> "
            "REJECTED); ib_async wrapper.py error(); QuantConnect/Lean#1199"
        ),
        wire="required: ib_async sets Cancelled on 201",
        seed=False,
    ),
    _c(
        "LIFE-16",
        "Cancel or expiry nobody asked for",
        "With no cancel request the broker ends an order (error 202, then orderStatus "
        "Cancelled): 30 of an IOC's 100 fill and the rest is cancelled (ioc-remainder); two "
        "of our orders in one OCA group, one fills and the other is cancelled (oca-sibling); "
        "an order with nothing filled reaches its goodTillDate (gtd).",
        "CANCELED with the filled quantity kept; no resubmit, no cancel sent; the 202 is not "
        "a second cancel event.",
        "ORDER_CANCELED",
        "a protective stop silently gone while the strategy believes it works",
        variants=("ioc-remainder", "oca-sibling", "gtd"),
        evidence=(
            "nautilus spec_exec_testing.md TC-E14/E18; ib_async wrapper.py error() "
            '("server-canceled"); QuantConnect/Lean#1026 (202)'
        ),
        wire="yes: the same messages over the socket",
        seed=False,
    ),
    _c(
        "LIFE-17",
        "orderStatus duplicated, out of order or missing",
        "A filled order gets Filled (filled 100) three times, then a Filled with "
        "avgFillPrice 0 and filled 0 (the completed-order form), then a late Submitted "
        "(filled 60) queued earlier.",
        "Status handling is idempotent and only moves forward: FILLED stays, filled and "
        "VWAP come from executions only (never 0, never down).",
        "",
        "a filled order shown as Submitted: re-cancel or re-submit; P&L booked at price 0",
        evidence=(
            "stoqey/ib#239; QuantConnect/Lean#1199, #851, #1799; erdewit/ib_insync#309; "
            "nautechsystems/nautilus_trader#3472"
        ),
        wire="the non-identical statuses only: both clients drop an identical orderStatus",
        seed=False,
    ),
    _c(
        "LIFE-18",
        "Overfill",
        "SELL 1: two broker incarnations carry the same orderRef and orderId (a replacement "
        "taken as new); each fills 1, with distinct execIds.",
        "Every execution is applied: position -2 (the broker is the truth); the order is "
        "FILLED with filled 2 and an overfill alert; no exception, no silent drop.",
        "OVERFILL",
        "position double the intent; the engine crashes on leaves_qty < 0",
        evidence=(
            'nautilus docs/concepts/execution.md "Overfills"; '
            "nautechsystems/nautilus_trader#3221; nautilus docs/integrations/ib.md (OCA "
            "type 3)"
        ),
        wire="yes: ib_async keys trades by (clientId, orderId)",
        seed=False,
    ),
    _c(
        "FAIL-01",
        "Flatten-all in a frozen market",
        "EOD flatten; the broker rejects every flatten order (halt).",
        "Every flatten order REJECTED; one summary with failures and exposure left; alert.",
        "FLATTEN_SUMMARY",
        "overnight gap risk",
    ),
    _c(
        "FAIL-02",
        "Partial flatten rejection",
        "One flatten order rejected (margin), the others fill.",
        "The others proceed; the summary names what is still open.",
        "FLATTEN_PARTIAL",
        "remaining risk",
    ),
    _c(
        "FAIL-03",
        "Flatten recursion",
        "A flatten order is itself rejected.",
        "No new flatten is triggered by a flatten order.",
        "FLATTEN_RECURSION",
        "infinite loop",
    ),
    _c(
        "FAIL-04",
        "Broker wins on reconcile",
        "Engine has an acknowledged WORKING order; the broker has no record of it.",
        "Order forced to CANCELED.",
        "RECONCILE_MISMATCH",
        "phantom orders",
    ),
    _c(
        "FAIL-05",
        "OrderId reuse after midnight",
        "IB hands out an orderId already used on an earlier day.",
        "Orders keyed by permId; events for the new order never touch the old one.",
        "ORDER_ID_REUSE",
        "wrong order mapping",
    ),
    _c(
        "FAIL-06",
        "GTC order survives the weekend",
        "GTC order working on Friday; engine restarts Monday.",
        "Reconcile recovers it (WORKING, recovered=True, broker ids intact).",
        "RECONCILE_RECOVERED",
        "lost order",
    ),
    _c(
        "FAIL-07",
        "What-if margin during flatten",
        "What-if check says the flatten would violate margin.",
        "Flatten aborted before any order is sent; operator alert.",
        "FLATTEN_ABORTED",
        "forced liquidation",
    ),
    _c(
        "RECON-02",
        "Startup snapshot plus execution replay",
        "Fills E1 and E2 are known; the engine goes away (a restart, or a reconnect whose"
        " client caches reset) and E3 fills meanwhile; the startup sync returns positions"
        " that include all three, completed orders and reqExecutions with E1, E2, E3 and "
        "their commissions.",
        "E1 and E2 are recognised by execId (FILL_DUPLICATE on a reconnect); E3 is "
        "applied exactly once; positions from the snapshot are not increased again by "
        "replayed executions: engine positions equal the broker's.",
        "FILL_DUPLICATE",
        "positions double after every restart or reconnect",
        variants=("restart", "reconnect"),
        evidence=(
            "TWS-PROTOCOL.md (clients dedupe only within one session); ib_async wrapper.py "
            "reset() clears fills; nautechsystems/nautilus_trader#5041, #4149"
        ),
        wire="required for the reconnect variant: the clients reset their caches",
        seed=False,
    ),
    _c(
        "RECON-03",
        "Position changes with no execution",
        "Overnight the position stream reports AAPL 100 -> 0 (an assignment delivers the "
        "shares away); there is no execDetails for any order of ours.",
        "No fill is made up on any oms order and no order is placed to repair it; the "
        "broker's position is known and the health fails its positions check, with an "
        "alert.",
        "HEALTH_POSITION_MISMATCH",
        "a phantom position is kept; the hedge is wrong",
        evidence=(
            "ib-api-reloaded/ib_async#93 (assignments arrive as a new position with no "
            "event); nautechsystems/nautilus_trader#2926, #3618"
        ),
        wire=("yes: the position stream over the socket"),
        seed=False,
    ),
    _c(
        "BOUNDARY-01",
        "Connector mutates OrderState",
        "Connector code assigns to or mutates an engine state object.",
        "The libcst rule reports it; state objects the engine hands out cannot be mutated.",
        "rule finding",
        "architecture collapse",
    ),
    _c(
        "BOUNDARY-02",
        "Engine bypasses the connector",
        "Engine code calls or imports the broker library, or reaches into connector internals.",
        "The libcst rule and the import-linter contract both fail.",
        "rule finding",
        "tight coupling",
    ),
    _c(
        "PERF-01",
        "10,000 open orders",
        "10k orders working, then events and a reconcile over all of them.",
        "Per-event cost does not grow with the book; peak memory far below 500 MB.",
        "",
        "crash on a volatile day",
    ),
    _c(
        "PERF-02",
        "Fill burst",
        "Fills arrive faster than 100/s.",
        "Engine keeps up with no backlog; measured rate reported.",
        "FILL_RATE",
        "missed fills",
    ),
    _c(
        "SEC-01",
        "Manual orders on the algo session",
        "Orders and fills from TWS manual trading (clientId 0) or another system arrive.",
        "Recognised as foreign, left out of the strategy's orders and positions.",
        "FOREIGN_ORDER",
        "strategy trades on manual orders",
    ),
    _c(
        "SEC-02",
        "Account switch mid-session",
        "Broker reports a different account than configured.",
        "Engine halts: no further orders.",
        "ACCOUNT_MISMATCH",
        "wrong account trading",
    ),
    _c(
        "SEC-03",
        "Cancel-all must not touch foreign orders",
        "EOD flatten while a manual TWS order (clientId 0) and another system's order work on "
        "the same account.",
        "The engine cancels its own orders one at a time (cancelOrder under its clientId) and "
        "never sends reqGlobalCancel; at the broker the foreign orders still work afterwards.",
        "FOREIGN_ORDER",
        "the operator's manual hedges and other systems' orders wiped",
        seed=False,
    ),
    _c(
        "OPS-01",
        "Log rotation",
        "Log volume past the size cap; day boundary.",
        "Rotates by size and daily, keeps a bounded number of files, never crashes.",
        "",
        "disk full, process death",
    ),
    _c(
        "OPS-02",
        "Health endpoint lies",
        "Positions wrong while the process is up; not flat at the 04:00 check.",
        "Health answers unhealthy naming the failed check: `positions` when engine and "
        "broker positions disagree, `overnight_flat` when not flat at the 04:00 check; "
        "alert raised.",
        "HEALTH_POSITION_MISMATCH",
        "blind trading",
    ),
    _c(
        "OPS-03",
        "Connection lost and never restored",
        "At the Sunday gateway restart the socket closes, and every reconnect is refused "
        "(the gateway is up but not logged in); 120 s of broker time pass.",
        "Health fails its `connected` check with the reason; reconnects continue with "
        "backoff; a new order stays NEW with no broker ids (refused with a code). No "
        "healthy-while-disconnected state.",
        "CONNECTION_LOST",
        "three days of rejected orders with nothing reporting the loss",
        evidence=(
            "QuantConnect/Lean.Brokerages.InteractiveBrokers#246, described in #247 and #250"
        ),
        wire="yes: the reconnect path of the client",
        seed=False,
    ),
    _c(
        "EDGE-01",
        "Negative price fill",
        "Execution price -0.01 on an instrument whose prices cannot be negative.",
        "Fill rejected, alert.",
        "NEGATIVE_PRICE",
        "corrupted P&L",
    ),
    _c(
        "EDGE-02",
        "Symbol change",
        "Contract changes (IBM -> IBM2) after a corporate action.",
        "Old working orders cancelled and marked CANCELED.",
        "CONTRACT_CHANGED",
        "phantom position",
    ),
    _c(
        "EDGE-03",
        "OrderId wrap-around",
        "orderId reaches 2^31-1.",
        "permId is the primary key; nothing breaks after the wrap.",
        "ORDER_ID_WRAP",
        "mapping loss",
    ),
    _c(
        "EDGE-04",
        "API rate limit",
        "250 orders submitted in one second against a 200/s limit.",
        "Throttled and queued (50 queued), none rejected by the broker, all eventually sent "
        "in order.",
        "RATE_LIMIT",
        "rejected orders",
    ),
    _c(
        "EDGE-05",
        "Execution times in TWS's zone",
        "TWS prints execution times as 'YYYYMMDD HH:MM:SS <zone>' in the zone of its "
        "login: US/Eastern, MET or UTC, or (no-zone, older TWS builds) as 'YYYYMMDD "
        "HH:MM:SS' with no zone, in its login zone (US/Eastern, the zone the engine is "
        "configured with); the fill is on a summer day (daylight time) at a time whose wall "
        "clock differs in each.",
        "The fill time is stored as the right instant, an aware broker time, whatever "
        "zone TWS printed (a zone-less time in TWS's zone, never UTC or the host's) and "
        "whatever the host's zone.",
        "",
        "fill times hours off (audit, EOD and skew logic); fills dropped",
        variants=("eastern", "met", "utc", "no-zone"),
        evidence=(
            "ib-api-reloaded/ib_async#230, #232; erdewit/ib_insync#287 (zone-less times in "
            "the TWS login's zone), #671; wboayue/rust-ibapi#387 (no zone below server "
            "version 200); "
            "nautechsystems/nautilus_trader#4397 (MET)"
        ),
        wire=("required: the zone is in the clients' decoders"),
        seed=False,
    ),
)

_BY_ID: Final = {c.id: c for c in CASES}
if len(_BY_ID) != len(CASES):
    raise InternalError("the case catalog must hold unique ids")

SEED_30: Final = tuple(c.id for c in CASES if c.seed)
"""The seed's catalog (CASES.md): the set a team pins to keep its gate as it was."""
DEFAULT_CASE_SET: Final = "all"
CASE_SETS: Final[dict[str, tuple[str, ...]]] = {
    DEFAULT_CASE_SET: tuple(c.id for c in CASES),
    "seed-30": SEED_30,
}


def case(case_id: str) -> Case:
    """The catalog entry for `case_id`, or for a test id `ID[variant]` (KeyError names the
    unknown id)."""
    return _BY_ID[case_id.partition("[")[0]]


def variant_ids(case_ids: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Every test id of the given cases (default: all), variants expanded, catalog order."""
    wanted = set(case_ids) if case_ids is not None else None
    return tuple(t for c in CASES if wanted is None or c.id in wanted for t in c.test_ids)
