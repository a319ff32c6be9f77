"""EDGE cases: odd prices, renamed contracts, orderId wrap-around and the API rate limit."""

from __future__ import annotations

from decimal import Decimal

from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.stage import ACCOUNT, CLIENT_ID, StageMaker
from ibguard.kit.sim.broker import BrokerConfig

__all__: list[str] = []

ORDER_ID_MAX = 2**31 - 1
LIMIT = 200  # EDGE-04: the broker's message limit per second (the endpoint's rate_limit)
BURST = 250  # orders submitted within one second: 50 over the limit


@implements("EDGE-01")
def negative_price_fill(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1")
    stage.broker.fill(stage.broker_order("o1").perm_id, Decimal(10), Decimal("-0.01"))
    stage.advance(1)
    facts = stage.order("o1")
    stage.expect(facts.filled == 0, f"o1 counted {facts.filled} shares filled at -0.01")
    held = stage.subject.position(stage.instrument("AAPL"))
    stage.expect(held == 0, f"position AAPL {held} from a fill at -0.01: corrupted P&L")
    stage.expect_code("NEGATIVE_PRICE")


@implements("EDGE-02")
def symbol_change(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", "IBM")
    stage.expect_status("o1", "WORKING", why="the broker acknowledged it")
    stage.broker.rename_contract("IBM", "IBM2")
    stage.broker.drop(CLIENT_ID)
    stage.advance(1)  # reconnect and reconcile, which checks contracts of working orders
    stage.advance(1)
    at_broker = stage.broker_order("o1")
    stage.expect(
        not at_broker.is_live,
        "the order on the old IBM contract is still working at the broker: phantom position",
    )
    stage.expect_status("o1", "CANCELED", why="orders on the old contract are cancelled")
    stage.expect_code("CONTRACT_CHANGED")


@implements("EDGE-03")
def order_id_wrap_around(make: StageMaker) -> None:
    stage = make()
    stage.broker.force_next_order_id(CLIENT_ID, ORDER_ID_MAX - 1)
    stage.start()
    for number, quantity in enumerate((10, 20, 30)):
        stage.submit(f"o{number}", quantity=quantity)
        stage.advance(1)
    for number, quantity in enumerate((10, 20, 30)):
        at_broker = stage.broker_order(f"o{number}")
        stage.broker.fill(at_broker.perm_id, Decimal(quantity), Decimal("99.00"))
    stage.advance(1)
    for number, quantity in enumerate((10, 20, 30)):
        facts = stage.expect_status(f"o{number}", "FILLED", why="the broker filled it")
        stage.expect(
            facts.filled == quantity,
            f"o{number} filled {facts.filled}, the broker executed {quantity}: mapping lost "
            "at the orderId wrap",
        )
    held = stage.subject.position(stage.instrument("AAPL"))
    stage.expect(held == 60, f"position AAPL {held}, the broker filled 60")
    stage.expect_code("ORDER_ID_WRAP")


@implements("EDGE-04")
def api_rate_limit(make: StageMaker) -> None:
    stage = make(broker=BrokerConfig(accounts=(ACCOUNT,), rate_limit_per_second=LIMIT)).start()
    stage.advance(1)  # the session's opening requests leave the one-second window
    mark = stage.broker.requests.mark()
    wanted = [f"r{number}" for number in range(BURST)]
    for oms_id in wanted:
        stage.submit(oms_id)  # all within one second of broker time
    stage.advance(30, step=0.25)
    requests = stage.broker.requests.after_seq(mark)
    dropped = [r for r in requests if not r.accepted]
    stage.expect(not dropped, f"{len(dropped)} messages dropped by the broker (error 100)")
    refs = [r.order_ref for r in requests if r.request == "placeOrder" and not r.what_if]
    sent = [ref.rpartition(":")[2] for ref in refs]
    stage.expect(
        sent == wanted,
        f"{len(sent)} of {BURST} orders reached the broker"
        + ("" if len(sent) != len(wanted) else ", out of submission order"),
    )
    rejected = [o.order_ref for o in stage.broker.orders() if o.status == "Inactive"]
    stage.expect(not rejected, f"{len(rejected)} orders rejected by the broker")
    held = BURST - LIMIT
    stage.expect_record(
        "RATE_LIMIT",
        lambda r: _number(r.get("queued")) >= held,
        f"queued={held} (or more, with a safety margin under {LIMIT}/s) at the peak",
    )
    depths = [_number(r.get("queued")) for r in stage.records_of("RATE_LIMIT")]
    if depths:
        stage.figures["queued"] = str(max(depths))


def _number(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1
