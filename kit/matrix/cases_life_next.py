"""LIFE cases beyond the seed (CASES-NEXT.md): corrections, notices, duplicate ids,
unsolicited cancels and overfills, each a real IB behaviour the clients get wrong.

The broker messages these cases play that no request provokes (a notice with the order's
id, a bare error 103) are posted to our session as TWS would send them, so the same case
runs in-process and over the wire.
"""

from __future__ import annotations

from decimal import Decimal

from ibguard.engine.model import Side
from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.stage import ACCOUNT, CLIENT_ID, CaseNotPlayable, Stage, StageMaker
from ibguard.kit.sim.broker import BrokerConfig
from ibguard.kit.sim.messages import CommissionReport, Error, Message, OrderStatus
from ibguard.kit.sim.script import FillPlan, RefuseCancel, SlowCancel

__all__: list[str] = []

# the notices IB sends with the order's id while the order lives on (LIFE-10)
NOTICES = {
    "10349": "Order TIF was set to DAY based on order preset.",
    "404": "Order held while securities are located.",
    "399": "Order Message:\nBUY 100 AAPL NASDAQ.NMS\nWarning: your order will not be placed "
    "at the exchange until 2024-01-02 09:30:00 US/Eastern",
    "2109": "Order Event Warning: Attribute 'Outside Regular Trading Hours' is ignored.",
}


def _say(stage: Stage, message: Message) -> None:
    """TWS sends `message` to our session now."""
    broker = stage.broker
    broker.post(broker.session(CLIENT_ID), message)
    broker.flush()


def _position(stage: Stage, symbol: str = "AAPL") -> Decimal:
    return stage.subject.position(stage.instrument(symbol))


def _placed_for(stage: Stage, oms_id: str) -> int:
    return sum(1 for ref in stage.placed_refs() if ref == oms_id or ref.endswith(":" + oms_id))


def _cancels_sent(stage: Stage) -> int:
    return len(stage.broker.requests.cancels())


@implements("LIFE-07")
def execution_correction(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", quantity=30, limit=None)
    stage.expect_status("o1", "FILLED", why="the broker filled 30 at the market")
    first = stage.broker.ledger.executions[-1].execution
    if make.variant == "shares":
        want_filled, want_price = Decimal(25), first.price
        stage.broker.correct_execution(first.execId, shares=want_filled)
    else:
        want_filled, want_price = Decimal(30), first.price - Decimal("0.05")
        stage.broker.correct_execution(first.execId, price=want_price)
    facts = stage.order("o1")
    stage.expect(
        facts.filled == want_filled,
        f"o1 filled {facts.filled} after the correction of {first.execId}: the broker says "
        f"{want_filled} (a correction replaces the fill, it is not added)",
    )
    got = facts.avg_fill_price
    stage.expect(
        got is not None and Decimal(got) == want_price,
        f"o1 avg_fill_price {got}, the corrected execution says {want_price}",
    )
    held = _position(stage)
    stage.expect(held == want_filled, f"position AAPL {held}, the broker's is {want_filled}")
    stage.expect_code("FILL_CORRECTED", replaced=first.execId)


@implements("LIFE-10")
def informational_codes_never_end_an_order(make: StageMaker) -> None:
    code = int(make.variant or "10349")
    stage = make().start()
    stage.submit("o1")
    order = stage.broker_order("o1")
    _say(stage, Error(reqId=order.order_id, errorCode=code, errorString=NOTICES[str(code)]))
    stage.advance(1)
    stage.expect_status(
        "o1", "WORKING", why=f"error {code} is a notice: the broker still works the order"
    )
    stage.broker.fill(order.perm_id, Decimal(100), Decimal("99.00"))
    facts = stage.expect_status("o1", "FILLED", why="the live order filled")
    stage.expect(facts.filled == 100, f"o1 filled {facts.filled}, the broker executed 100")
    placed = _placed_for(stage, "o1")
    stage.expect(placed == 1, f"o1 was placed {placed} times after a notice: duplicate orders")
    held = _position(stage)
    stage.expect(held == 100, f"position AAPL {held}, the broker filled 100")


@implements("LIFE-12")
def duplicate_order_id(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("a")
    a = stage.broker_order("a")
    duplicate = a.order_id + 1  # an earlier run of this clientId used it today
    stage.broker.ids.mark_used(CLIENT_ID, duplicate)
    stage.submit("b")  # sent with the used id: TWS answers 103 and nothing else
    stage.advance(1)
    facts = stage.expect_status(
        "b", "NEW", "REJECTED", why="103 proves the broker never took it (not placed)"
    )
    stage.expect(facts.filled == 0, f"b filled {facts.filled}, the broker never placed it")
    stage.expect_status("a", "WORKING", why="the 103 was about b's id, not a's order")
    stage.submit("c")
    stage.advance(1)
    stage.expect_status("c", "WORKING", why="the next order must get an id the broker takes")
    c = stage.broker_order("c")
    stage.expect(c.order_id > duplicate, f"c got orderId {c.order_id}, not past {duplicate}")
    stage.expect_code("ORDER_ID_DUPLICATE", oms_id="b")


@implements("LIFE-16")
def unsolicited_cancel(make: StageMaker) -> None:
    variant = make.variant or "ioc-remainder"
    if variant == "oca-sibling":
        _oca_sibling_cancelled(make)
        return
    stage = make().start()
    stage.submit("o1")
    order = stage.broker_order("o1")
    if variant == "gtd":  # nothing filled by its goodTillDate: the broker ends it
        stage.advance(60, step=30)
        stage.broker.cancel_at_broker(order.perm_id, "GTD expired")  # 202, then Cancelled
        want = 0
    else:  # an IOC: 30 fill, the broker cancels the remainder at once
        stage.broker.fill(order.perm_id, Decimal(30), Decimal("99.00"))
        stage.broker.cancel_at_broker(order.perm_id, "IOC remainder")
        want = 30
    stage.advance(5, step=1)
    facts = stage.expect_status(
        "o1", "CANCELED", why=f"the broker ended it ({variant}) with no request from us"
    )
    stage.expect(facts.filled == want, f"o1 filled {facts.filled}, the broker executed {want}")
    held = _position(stage)
    stage.expect(held == want, f"position AAPL {held}, the broker filled {want}")
    _not_replaced_nor_cancelled(stage, "o1")


def _oca_sibling_cancelled(make: StageMaker) -> None:
    """Two of our orders in one OCA group: a fills, the broker cancels b on its own."""
    stage = make().start()
    stage.submit("a", limit="99.00")
    stage.submit("b", limit="98.00")
    a, b = stage.broker_order("a"), stage.broker_order("b")
    stage.broker.join_oca_group("entry", a.perm_id, b.perm_id)
    stage.broker.fill(a.perm_id, Decimal(100), Decimal("99.00"))  # 202 'OCA group' for b
    stage.advance(5, step=1)
    stage.expect_status("a", "FILLED", why="the broker filled a")
    facts = stage.expect_status(
        "b", "CANCELED", why="the broker cancelled b when its OCA sibling a filled"
    )
    stage.expect(facts.filled == 0, f"b filled {facts.filled}, the broker executed none of it")
    held = _position(stage)
    stage.expect(held == 100, f"position AAPL {held}, the broker filled a's 100 only")
    _not_replaced_nor_cancelled(stage, "b")


def _not_replaced_nor_cancelled(stage: Stage, oms_id: str) -> None:
    placed = _placed_for(stage, oms_id)
    stage.expect(placed == 1, f"{oms_id} was placed {placed} times: resubmitted after the cancel")
    sent = _cancels_sent(stage)
    stage.expect(sent == 0, f"{sent} cancel(s) sent for an order the broker had cancelled")
    stage.expect_code("ORDER_CANCELED", oms_id=oms_id)


@implements("LIFE-18")
def overfill(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", quantity=1, side=Side.SELL, limit="101.00")
    first = stage.broker_order("o1")
    # a second incarnation with the same orderRef and orderId (a modify TWS took as new)
    second = stage.broker.inject_order(
        client_id=CLIENT_ID,
        symbol="AAPL",
        action="SELL",
        quantity=Decimal(1),
        lmt_price=Decimal("101.00"),
        order_ref=first.order_ref,
        order_id=first.order_id,
    )
    stage.broker.fill(first.perm_id, Decimal(1), Decimal("101.00"))
    stage.broker.fill(second.perm_id, Decimal(1), Decimal("101.00"))
    stage.advance(1)
    held = _position(stage)
    stage.expect(held == -2, f"position AAPL {held}, the broker's is -2: both fills are real")
    facts = stage.expect_status("o1", "FILLED", why="its quantity was filled")
    stage.expect(facts.filled == 2, f"o1 filled {facts.filled}, its two incarnations filled 2")
    stage.expect_code("OVERFILL", oms_id="o1")


@implements("LIFE-11")
def cancel_refused(make: StageMaker) -> None:
    code = int(make.variant or "10148")
    if code == 161:
        _cancel_refused_while_presubmitted(make)
        return
    stage = make().start()
    stage.submit("o1")
    order = stage.broker_order("o1")
    stage.broker.stall(order.perm_id)  # the broker fills it and the news is lost
    stage.broker.fill(order.perm_id, Decimal(100), Decimal("99.00"))
    if code == 10147:  # TWS no longer knows the order it filled
        stage.broker.script.arm(RefuseCancel(code=10147))
    stage.subject.cancel("o1")  # 10148 "cannot be cancelled, state: Filled" or 10147
    stage.broker.stall(order.perm_id, False)
    stage.advance(10, step=1)
    facts = stage.expect_status(
        "o1", "FILLED", why=f"the broker refused the cancel ({code}) because the order had filled"
    )
    stage.expect(facts.filled == 100, f"o1 filled {facts.filled}, the broker executed 100")
    held = _position(stage)
    stage.expect(held == 100, f"position AAPL {held}, the broker filled 100: unhedged")
    sent = _cancels_sent(stage)
    stage.expect(sent == 1, f"{sent} cancels sent for o1 after the broker refused: cancel spam")


def _cancel_refused_while_presubmitted(make: StageMaker) -> None:
    """161: the order is held (PreSubmitted) and cannot be cancelled now; it works on and
    fills later."""
    stage = make(broker=BrokerConfig(accounts=(ACCOUNT,), working_status="PreSubmitted")).start()
    stage.submit("o1")
    order = stage.broker_order("o1")
    stage.broker.script.arm(RefuseCancel(code=161))
    stage.subject.cancel("o1")
    stage.advance(1)
    stage.expect_status(
        "o1", "WORKING", why="161 refused the cancel: the broker still works the order"
    )
    stage.broker.fill(order.perm_id, Decimal(100), Decimal("99.00"))
    stage.advance(5, step=1)
    facts = stage.expect_status("o1", "FILLED", why="the order the cancel could not stop filled")
    stage.expect(facts.filled == 100, f"o1 filled {facts.filled}, the broker executed 100")
    held = _position(stage)
    stage.expect(held == 100, f"position AAPL {held}, the broker filled 100: unhedged")
    sent = _cancels_sent(stage)
    stage.expect(sent <= 2, f"{sent} cancels sent for o1 after a 161: at most one retry")


@implements("LIFE-08")
def fill_before_acknowledgement(make: StageMaker) -> None:
    stage = make().start()
    price = Decimal("99.00")
    # execDetails and its commission come first, openOrder and orderStatus after
    stage.broker.script.arm(
        FillPlan(
            fills=((Decimal(100), price),), exec_before_status=True, before_acknowledgement=True
        )
    )
    stage.submit("o1")
    stage.advance(1)
    facts = stage.expect_status("o1", "FILLED", why="the broker executed it in full")
    stage.expect(
        facts.filled == 100,
        f"o1 filled {facts.filled}: the execution that came before the acknowledgement was lost",
    )
    held = _position(stage)
    stage.expect(held == 100, f"position AAPL {held}, the broker filled 100")
    perm = stage.broker_order("o1").perm_id
    stage.expect(facts.perm_id == perm, f"o1 permId {facts.perm_id}, the broker's is {perm}")


def _commission(stage: Stage, oms_id: str) -> Decimal:
    view = stage.subject.order(oms_id)
    value = getattr(view, "commission", None)
    if value is None:
        raise CaseNotPlayable("the engine's order view shows no commission (`commission`)")
    return Decimal(value)


@implements("LIFE-09")
def commission_once_per_execution(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", limit=None)
    stage.submit("o2", limit=None)
    stage.advance(1)
    executions = stage.broker.ledger.executions
    first, second = executions[-2], executions[-1]
    fee = first.commission.commission
    first_id, second_id = first.execution.execId, second.execution.execId
    unset_pnl = Decimal("1.7976931348623157E308")  # IB's "unset" double
    _say(stage, CommissionReport(execId=first_id, commission=fee, realizedPNL=unset_pnl))
    _say(stage, CommissionReport(execId=first_id, commission=fee))  # sent twice
    rebate = Decimal("-0.35")
    _say(stage, CommissionReport(execId=second_id, commission=rebate))  # a rebate, revised
    stage.broker.drop(CLIENT_ID)  # the engine reconnects; reqExecutions re-sends every report
    stage.advance(1)
    stage.advance(1)
    paid = _commission(stage, "o1")
    stage.expect(
        paid == fee,
        f"o1 commission {paid} for one execution charged {fee}: a fee counted per report",
    )
    got = _commission(stage, "o2")
    stage.expect(
        got in (rebate, second.commission.commission),
        f"o2 commission {got}: the broker reported {second.commission.commission}, then "
        f"{rebate} for the same execution (a value per execId, set, not added)",
    )


@implements("LIFE-14")
def rejection_after_partial_fill(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1")
    order = stage.broker_order("o1")
    stage.broker.fill(order.perm_id, Decimal(40), Decimal("99.00"))
    text = "Order rejected - reason:The order's remaining quantity cannot be worked"
    order.complete("Cancelled", stage.now, text)
    reject = Error(reqId=order.order_id, errorCode=201, errorString=text)
    status = order.to_status()
    for message in (status, reject) if make.variant == "status-first" else (reject, status):
        _say(stage, message)
    stage.advance(1)
    facts = stage.expect_status(
        "o1", "CANCELED", why="40 filled before the reject: REJECTED would mean nothing filled"
    )
    stage.expect(facts.filled == 40, f"o1 filled {facts.filled}, the broker executed 40")
    got = facts.avg_fill_price
    stage.expect(got is not None and Decimal(got) == Decimal("99.00"), f"o1 VWAP {got}, not 99.00")
    held = _position(stage)
    stage.expect(held == 40, f"position AAPL {held}, the broker filled 40")
    placed = _placed_for(stage, "o1")
    stage.expect(placed == 1, f"o1 was placed {placed} times: the remainder was re-sent")


@implements("LIFE-17")
def order_status_duplicated_or_stale(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", limit=None)
    facts = stage.expect_status("o1", "FILLED", why="the broker filled it at the market")
    avg = facts.avg_fill_price
    order = stage.broker_order("o1")

    def status(name: str, filled: int, remaining: int, price: Decimal) -> OrderStatus:
        return OrderStatus(
            orderId=order.order_id,
            status=name,
            filled=Decimal(filled),
            remaining=Decimal(remaining),
            avgFillPrice=price,
            permId=order.perm_id,
            parentId=0,
            lastFillPrice=price,
            clientId=CLIENT_ID,
        )

    done = status("Filled", 100, 0, order.avg_fill_price)
    for message in (done, done, done, status("Filled", 0, 0, Decimal(0))):
        _say(stage, message)  # three times, then the completed-order form (avg 0, filled 0)
    _say(stage, status("Submitted", 60, 40, order.avg_fill_price))  # queued earlier
    stage.advance(1)
    facts = stage.expect_status("o1", "FILLED", why="a stale Submitted cannot reopen it")
    stage.expect(facts.filled == 100, f"o1 filled {facts.filled}: statuses moved it backwards")
    stage.expect(
        facts.avg_fill_price == avg,
        f"o1 avg_fill_price {facts.avg_fill_price}, was {avg}: P&L booked at a status's price",
    )
    held = _position(stage)
    stage.expect(held == 100, f"position AAPL {held}, the broker filled 100")


@implements("LIFE-13")
def inactive_is_not_always_final(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", side=Side.SELL, limit="101.00")  # a short sale: nothing held
    order = stage.broker_order("o1")
    if make.variant == "margin":
        _rejected_for_margin(stage, order.order_id, order.perm_id)
        return
    stage.broker.hold(order.perm_id, "locate")  # 404, then Inactive whyHeld=locate
    stage.advance(1)
    stage.expect_status(
        "o1", "WORKING", why="Inactive with whyHeld 'locate' is a hold: the broker may release it"
    )
    stage.expect_code("ORDER_INACTIVE", why_held="locate")
    if make.variant == "cancel-while-held":
        stage.broker.script.arm(SlowCancel())
        stage.subject.cancel("o1")
        stage.expect_status(
            "o1", "CANCEL_PENDING", why="a cancel request alone never ends an order"
        )
        stage.broker.fill(order.perm_id, Decimal(40), Decimal("101.00"))
        stage.advance(0.1)  # the fill came 100 ms before the broker's Cancelled
        stage.expect_status(
            "o1", "CANCEL_PENDING", why="the broker has not confirmed the cancel yet"
        )
        stage.broker.cancel_at_broker(order.perm_id)
        stage.advance(1)
        facts = stage.expect_status("o1", "CANCELED", why="the broker confirmed the cancel")
        want = 40
    else:
        stage.advance(120, step=30)  # the locate takes two minutes
        stage.expect_status("o1", "WORKING", why="the broker still holds it: not dead")
        sent = _cancels_sent(stage)
        stage.expect(sent == 0, f"{sent} cancel(s) sent for a held order the strategy wants")
        stage.broker.release(order.perm_id)
        stage.broker.fill(order.perm_id, Decimal(100), Decimal("101.00"))
        stage.advance(1)
        facts = stage.expect_status("o1", "FILLED", why="the held order was released and filled")
        want = 100
        placed = _placed_for(stage, "o1")
        stage.expect(placed == 1, f"o1 was placed {placed} times: a held order was resubmitted")
    stage.expect(facts.filled == want, f"o1 filled {facts.filled}, the broker executed {want}")
    held = _position(stage)
    stage.expect(held == -want, f"position AAPL {held}, the broker's is {-want}")


def _rejected_for_margin(stage: Stage, order_id: int, perm_id: int) -> None:
    """The working order fails its margin check: error 201, then Inactive with no whyHeld."""
    text = (
        "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED "
        "POSITION YOUR EQUITY WITH LOAN VALUE MUST EXCEED THE INITIAL MARGIN"
    )
    stage.expect_status("o1", "WORKING", why="the broker acknowledged it")
    sim = stage.broker.ledger.orders[perm_id]
    sim.complete("Inactive", stage.now, text)
    _say(stage, Error(reqId=order_id, errorCode=201, errorString=text))
    _say(stage, sim.to_status())
    stage.advance(1)
    facts = stage.expect_status(
        "o1", "REJECTED", why="201 then a bare Inactive: the broker will not work it"
    )
    stage.expect(facts.filled == 0, f"o1 filled {facts.filled}, the broker executed nothing")
    stage.expect_code("ORDER_REJECTED", error_code=201)
    placed = _placed_for(stage, "o1")
    stage.expect(placed == 1, f"o1 was placed {placed} times after a margin reject")
