"""CONN cases beyond the seed (CASES-NEXT.md): TWS losing its own link to IB while the API
socket stays up (1100, then 1101 or 1102)."""

from __future__ import annotations

from decimal import Decimal

from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.stage import CLIENT_ID, Stage, StageMaker
from ibguard.kit.matrix.subject import RESTART
from ibguard.kit.sim.script import DropConnection

__all__: list[str] = []


def _position(stage: Stage, symbol: str = "AAPL") -> Decimal:
    return stage.subject.position(stage.instrument(symbol))


@implements("CONN-06")
def connectivity_lost_then_restored(make: StageMaker) -> None:
    data_lost = make.variant == "data-lost"
    stage = make().start()
    stage.submit("o1")
    stage.submit("o2")
    first, second = stage.broker_order("o1"), stage.broker_order("o2")
    stage.broker.tws_connectivity(1100)
    # the link is down, yet the broker still reports two executions on the socket
    stage.broker.fill(first.perm_id, Decimal(100), Decimal("99.00"))
    stage.broker.fill(second.perm_id, Decimal(40), Decimal("99.00"))
    stage.advance(1)
    facts = stage.expect_status("o1", "FILLED", why="its fill arrived during the outage")
    stage.expect(facts.filled == 100, f"o1 filled {facts.filled}: a fill during 1100 was dropped")
    facts = stage.order("o2")
    stage.expect(facts.filled == 40, f"o2 filled {facts.filled}: a fill during 1100 was dropped")
    mark = stage.broker.requests.mark()
    stage.submit("o3")  # TWS cannot reach IB: nothing may be sent that could be lost
    stage.advance(1)
    sent = [r for r in stage.broker.requests.after_seq(mark) if r.request == "placeOrder"]
    stage.expect(not sent, f"{len(sent)} placeOrder(s) sent while TWS had no link to IB (1100)")
    stage.broker.tws_connectivity(1101 if data_lost else 1102)
    stage.advance(1)
    asked = {r.request for r in stage.broker.requests.after_seq(mark) if r.client_id == CLIENT_ID}
    if data_lost:
        missing = {"reqOpenOrders", "reqExecutions"} - asked
        if "reqAllOpenOrders" in asked:  # every client's open orders: ours among them
            missing.discard("reqOpenOrders")
        stage.expect(
            not missing,
            f"after 1101 (restored, data lost) the engine never sent {', '.join(sorted(missing))}:"
            " what happened during the outage is unknown",
        )
    held = _position(stage)
    stage.expect(held == 140, f"position AAPL {held}, the broker's is 140")
    stage.expect_code("CONNECTION_LOST")
    stage.expect_code("CONNECTION_RESTORED", data_lost=data_lost)


@implements("CONN-09")
def cancel_in_flight_when_socket_dies(make: StageMaker) -> None:
    applied = make.variant == "applied"
    stage = make().start()
    stage.submit("o1")
    order = stage.broker_order("o1")
    stage.broker.script.arm(DropConnection(request="cancelOrder", received=applied))
    stage.subject.cancel("o1")  # the socket dies right after the cancel, before any answer
    stage.expect_status(
        "o1", "CANCEL_PENDING", why="the cancel's outcome is unknown: nothing is rejected or done"
    )
    stage.advance(1)  # the engine reconnects and asks the broker
    stage.advance(1)
    stage.advance(5, step=1)
    live = [o for o in stage.broker_orders("o1") if o.is_live]
    stage.expect(len(live) <= 1, f"{len(live)} live broker orders for o1")
    if applied:
        stage.expect_status("o1", "CANCELED", why="the broker had applied the cancel")
    else:
        stage.expect(
            not order.is_live,
            "o1 still works at the broker: the lost cancel was never sent again while the "
            "strategy still wants it cancelled",
        )
        stage.expect_status("o1", "CANCELED", why="the re-sent cancel was confirmed")
    cancels = [r for r in stage.broker.requests.cancels() if r.order_id == order.order_id]
    stage.expect(len(cancels) <= 2, f"{len(cancels)} cancels sent for o1: at most one re-send")


@implements("CONN-08", RESTART)
def client_id_stuck_after_a_crash(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1")
    stage.submit("o2")
    working = {o.perm_id for o in (stage.broker_order("o1"), stage.broker_order("o2"))}
    stage.broker.drop(CLIENT_ID)  # kill -9: the socket dies ...
    stage.broker.connect(CLIENT_ID, lambda message: None)  # ... the gateway keeps the id held
    mark = stage.broker.requests.mark()
    stage.subject.restart()
    stage.advance(120, step=5)
    stage.expect(stage.subject.halted, "the engine trades on after 326 at restart: no halt")
    after = stage.broker.requests.after_seq(mark)
    attempts = sum(1 for r in after if r.request == "startApi")
    stage.expect(attempts <= 2, f"{attempts} connects with a clientId held: a reconnect loop")
    sent = [r for r in after if r.request in ("placeOrder", "cancelOrder")]
    stage.expect(not sent, f"{len(sent)} order request(s) sent with the clientId held")
    live = {o.perm_id for o in stage.broker.live_orders()}
    stage.expect(working <= live, "the two working orders are gone at the broker")
    stage.expect_code("CONNECTION_STOLEN")
