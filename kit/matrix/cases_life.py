"""LIFE cases: the order lifecycle's races and oddities (cancels, late and odd fills, VWAP)."""

from __future__ import annotations

from decimal import Decimal

from ibguard.engine.model import Side
from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.stage import CLIENT_ID, Stage, StageMaker
from ibguard.kit.sim.script import FillPlan, LateFillOnCancel, RefuseCancel

__all__: list[str] = []


def _cancels_for(stage: Stage, oms_id: str) -> int:
    ids = {o.order_id for o in stage.broker_orders(oms_id)}
    return sum(1 for r in stage.broker.requests.cancels() if r.order_id in ids)


def _position(stage: Stage, symbol: str = "AAPL") -> Decimal:
    return stage.subject.position(stage.instrument(symbol))


@implements("LIFE-01")
def cancel_already_filled(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", limit=None)
    stage.expect_status("o1", "FILLED", why="the broker filled it in full")
    stage.subject.cancel("o1")
    stage.advance(5, step=1)
    sent = _cancels_for(stage, "o1")
    stage.expect(sent == 0, f"{sent} cancel(s) sent for the FILLED order o1: broker warning spam")
    stage.expect_status("o1", "FILLED", why="a cancel request cannot undo a fill")
    stage.expect_code("CANCEL_IGNORED")

    # The race: cancel sent, the final fill arrives, the broker refuses the cancel (10148).
    stage.submit("o2")
    stage.broker.script.arm(RefuseCancel())
    stage.subject.cancel("o2")
    stage.advance(10, step=1)
    facts = stage.expect_status("o2", "FILLED", why="the fill won the race; the broker says Filled")
    stage.expect(facts.filled == 100, f"o2 filled {facts.filled}, the broker executed 100")
    sent = _cancels_for(stage, "o2")
    stage.expect(sent == 1, f"{sent} cancels sent for o2 after the broker refused: a retry loop")
    held = _position(stage)
    stage.expect(held == 200, f"position AAPL {held}, the broker filled 200")


@implements("LIFE-02")
def cancel_already_cancelled(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1")
    perm = stage.broker_order("o1").perm_id
    stage.broker.stall(perm)  # the broker cancels it and the news is lost
    stage.broker.cancel_at_broker(perm, "expired")
    stage.subject.cancel("o1")
    stage.advance(10, step=1)
    stage.expect_status("o1", "CANCELED", why="the broker says it is already cancelled")
    sent = _cancels_for(stage, "o1")
    stage.expect(sent == 1, f"{sent} cancels sent for the already-cancelled o1: a retry loop")
    stage.expect_code("CANCEL_REDUNDANT")


@implements("LIFE-03")
def fill_after_cancelled(make: StageMaker) -> None:
    sell = make.variant == "sell"  # a SELL from flat: the late fills make the position short
    side, sign, limit = (Side.SELL, -1, "101.00") if sell else (Side.BUY, 1, "99.00")
    stage = make().start()
    stage.submit("o1", side=side, limit=limit)
    stage.broker.script.arm(LateFillOnCancel(shares=Decimal(40), price=Decimal(limit)))
    stage.subject.cancel("o1")
    stage.advance(1)
    facts = stage.expect_status("o1", "CANCELED", why="cancelled with 40 of 100 filled")
    stage.expect(facts.filled == 40, f"o1 filled {facts.filled} after a late fill of 40")
    stage.expect_code("FILL_AFTER_CANCEL")

    stage.submit("o2", side=side, limit=limit)
    stage.broker.script.arm(LateFillOnCancel(shares=Decimal(100), price=Decimal(limit)))
    stage.subject.cancel("o2")
    stage.advance(1)
    facts = stage.expect_status("o2", "FILLED", why="the late fill completed it")
    stage.expect(facts.filled == 100, f"o2 filled {facts.filled} after a late fill of 100")
    held = _position(stage)
    want = 140 * sign
    stage.expect(held == want, f"position AAPL {held}, the broker's is {want}: wrong P&L")


@implements("LIFE-04")
def vwap_across_partials(make: StageMaker) -> None:
    stage = make().start()
    pieces = tuple(
        (Decimal(q), Decimal(p))
        for q, p in (
            (3, "100.13"),
            (7, "100.29"),
            (11, "100.31"),
            (2, "99.97"),
            (13, "100.05"),
            (5, "100.41"),
            (17, "100.19"),
            (1, "100.77"),
            (19, "99.89"),
            (6, "100.33"),
        )
    )
    quantity = sum(q for q, _ in pieces)
    stage.broker.script.arm(FillPlan(fills=pieces))
    stage.submit("o1", quantity=str(quantity))
    stage.advance(1)
    exact = sum(q * p for q, p in pieces) / quantity
    facts = stage.expect_status("o1", "FILLED", why=f"ten partial fills made up {quantity}")
    stage.expect(facts.filled == quantity, f"o1 filled {facts.filled}, the broker {quantity}")
    got = facts.avg_fill_price
    stage.expect(
        got is not None and Decimal(got) == exact,
        f"avg_fill_price {got} is not the exact VWAP {exact}: P&L drifts",
    )


@implements("LIFE-05")
def duplicate_exec_details(make: StageMaker) -> None:
    stage = make().start()
    if make.variant == "after-reconnect":
        stage.submit("o1", limit=None)  # one execution of 100 ...
        stage.broker.drop(CLIENT_ID)  # ... then the socket dies; the engine reconnects and
        stage.advance(1)  # its executions request replays that execution once more
        stage.advance(1)
        facts = stage.order("o1")
        stage.expect(facts.filled == 100, f"o1 filled {facts.filled} from one execution of 100")
        held = _position(stage)
        stage.expect(held == 100, f"position AAPL {held} from one execution of 100: inflated")
        stage.expect_code("FILL_DUPLICATE")
        return
    stage.broker.script.arm(FillPlan(fills=((Decimal(60), Decimal("99.00")),), duplicate_last=True))
    stage.submit("o1")
    stage.advance(1)
    last = stage.broker.ledger.executions[-1].execution.execId
    stage.broker.duplicate_execution(last)  # a reconnect replays it once more
    facts = stage.order("o1")
    stage.expect(facts.filled == 60, f"o1 filled {facts.filled} from one execution of 60")
    held = _position(stage)
    stage.expect(held == 60, f"position AAPL {held} from one execution of 60: inflated")
    stage.expect_code("FILL_DUPLICATE")


@implements("LIFE-06")
def zero_quantity_fill(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1")
    stage.broker.fill(stage.broker_order("o1").perm_id, Decimal(0), Decimal("99.00"))
    stage.advance(1)
    facts = stage.expect_status("o1", "WORKING", why="a zero-share execution changes nothing")
    stage.expect(facts.filled == 0, f"o1 filled {facts.filled} after a zero-share execution")
    stage.expect(not facts.avg_fill_price, f"avg_fill_price {facts.avg_fill_price} from 0 shares")
    held = _position(stage)
    stage.expect(held == 0, f"position AAPL {held} after a zero-share execution")
    stage.expect_code("FILL_ZERO_QTY")
