"""FAIL cases: safety under failure (flatten in bad markets, broker truth, id reuse, restarts)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ibguard.engine.model import TimeInForce
from ibguard.kit.matrix.casebook import implements
from ibguard.kit.matrix.stage import CLIENT_ID, CaseNotPlayable, Stage, StageMaker
from ibguard.kit.matrix.subject import FLATTEN, RESTART
from ibguard.kit.sim.broker import WhatIfAnswer
from ibguard.kit.sim.contracts import HaltMode
from ibguard.kit.sim.script import RejectOrder

__all__: list[str] = []

NEW_YORK = ZoneInfo("America/New_York")


def _long(stage: Stage, **positions: int) -> None:
    for number, (symbol, quantity) in enumerate(positions.items()):
        stage.submit(f"p{number}", symbol, quantity, limit=None)
    stage.advance(1)


def _placed_after(stage: Stage, mark: int) -> list[str]:
    return [r.symbol for r in stage.broker.requests.placed() if r.seq > mark]


def _mentions(record: Mapping[str, object], key: str, *words: str) -> bool:
    """Some field whose name contains `key` mentions every word."""
    texts = [str(v) for k, v in record.items() if key in k.lower()]
    return any(all(word in text for word in words) for text in texts)


def _exposes(record: Mapping[str, object], symbol: str, long: int | None = None) -> bool:
    """The record's *exposure* field names `symbol` (long `long` shares, when given), as
    text ("TSLA long 100") or as a mapping of symbol to signed quantity."""
    for name, value in record.items():
        if "exposure" not in name.lower():
            continue
        if isinstance(value, Mapping):
            held = value.get(symbol)
            if held is not None and (long is None or Decimal(str(held)) == long):
                return True
            continue
        for part in re.split(r"[,;]", str(value)):
            words = part.replace(":", " ").split()
            if symbol not in words:
                continue
            if long is None:
                return True
            text = " ".join(words).lower()
            if long in _numbers(words) and "short" not in text and "-" not in text:
                return True
    return False


def _numbers(words: list[str]) -> list[Decimal]:
    found = []
    for word in words:
        try:
            found.append(Decimal(word))
        except ArithmeticError:
            continue
    return found


def _held(stage: Stage, symbol: str) -> Decimal:
    return stage.subject.position(stage.instrument(symbol))


@implements("FAIL-01", FLATTEN)
def flatten_in_frozen_market(make: StageMaker) -> None:
    stage = make().start()
    _long(stage, AAPL=100, TSLA=50)
    stage.broker.halt("AAPL", HaltMode.REJECT)
    stage.broker.halt("TSLA", HaltMode.REJECT)
    mark = stage.broker.requests.mark()
    stage.subject.flatten("eod")
    stage.advance(60, step=1)
    placed = _placed_after(stage, mark)
    stage.expect(
        sorted(placed) == ["AAPL", "TSLA"],
        f"flatten in a halted market sent orders for {sorted(placed)}; expected one each for "
        "AAPL and TSLA, no retries",
    )
    refs = [r.order_ref for r in stage.broker.requests.placed() if r.seq > mark]
    flatten = [o for o in stage.broker.orders() if o.order_ref in refs]
    for order in flatten:  # broker side: each was refused, nothing traded
        stage.expect(
            order.status == "Inactive" and not order.filled,
            f"flatten order {order.order_ref} is {order.status} with {order.filled} filled at "
            "the broker; the halted market rejects every order",
        )
        oms_id = order.order_ref.rpartition(":")[2]
        stage.expect_status(oms_id, "REJECTED", why="the broker rejected this flatten order")
    for symbol, quantity in (("AAPL", 100), ("TSLA", 50)):
        held = _held(stage, symbol)
        stage.expect(held == quantity, f"{symbol} shows {held}, still {quantity} at the broker")
    summaries = stage.codes.count("FLATTEN_SUMMARY")
    stage.expect(summaries == 1, f"{summaries} FLATTEN_SUMMARY records for one flatten, not one")
    named = [(o.order_ref.rpartition(":")[2], o.contract.symbol) for o in flatten]
    ids = [oms_id for oms_id, _ in named]
    stage.expect_record(
        "FLATTEN_SUMMARY",
        lambda r: (
            all(_mentions(r, "fail", i) or _mentions(r, "fail", s) for i, s in named)
            and _exposes(r, "AAPL", 100)
            and _exposes(r, "TSLA", 50)
        ),
        f"the failed orders ({', '.join(ids)}, or their symbols) in a *fail* field and the "
        "exposure left (AAPL long 100, TSLA long 50) in an *exposure* field",
    )
    stage.expect_record(
        "FLATTEN_SUMMARY", lambda r: r.get("alert") is True, "alert=True (an operator alert)"
    )


@implements("FAIL-02", FLATTEN)
def partial_flatten_rejection(make: StageMaker) -> None:
    stage = make().start()
    _long(stage, AAPL=100, TSLA=100, MSFT=100)
    stage.broker.script.arm(
        RejectOrder(code=201, text="Order rejected - reason:insufficient margin", symbol="TSLA")
    )
    stage.subject.flatten("eod")
    stage.advance(10, step=1)
    for symbol, left in (("AAPL", 0), ("MSFT", 0), ("TSLA", 100)):
        at_broker = stage.broker.position(symbol)
        stage.expect(at_broker == left, f"{symbol} {at_broker} at the broker after the flatten")
        held = _held(stage, symbol)
        stage.expect(held == left, f"the engine shows {symbol} {held}, the broker {left}")
    stage.expect_record(
        "FLATTEN_PARTIAL",
        lambda r: _exposes(r, "TSLA", 100) and not _exposes(r, "AAPL") and not _exposes(r, "MSFT"),
        "what is still open (TSLA long 100, nothing else) in an *exposure* field",
    )


@implements("FAIL-03", FLATTEN)
def flatten_recursion(make: StageMaker) -> None:
    stage = make().start()
    _long(stage, AAPL=100)
    stage.broker.script.arm(RejectOrder(symbol="AAPL", times=50))
    mark = stage.broker.requests.mark()
    stage.subject.flatten("eod")
    stage.advance(120, step=1)
    placed = _placed_after(stage, mark)
    stage.expect(
        len(placed) == 1,
        f"{len(placed)} flatten orders after one rejection: a rejected flatten started another",
    )
    stage.expect_code("FLATTEN_RECURSION")


@implements("FAIL-04")
def broker_wins_on_reconcile(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1")
    stage.expect_status("o1", "WORKING", why="the broker acknowledged it")
    stage.broker.forget_order(stage.broker_order("o1").perm_id)
    stage.broker.drop(CLIENT_ID)
    stage.advance(1)  # reconnect and reconcile
    stage.advance(1)
    stage.expect_status("o1", "CANCELED", why="the broker has no record of it: a phantom order")
    stage.expect_code("RECONCILE_MISMATCH")


@implements("FAIL-05")
def order_id_reuse_after_midnight(make: StageMaker) -> None:
    stage = make().start()
    stage.submit("o1", tif=TimeInForce.GTC)
    old = stage.broker_order("o1")
    stage.broker.new_day(datetime(2024, 1, 3, 9, 0, tzinfo=NEW_YORK))
    stage.broker.force_next_order_id(CLIENT_ID, old.order_id)
    stage.broker.drop(CLIENT_ID)  # the nightly TWS restart
    stage.advance(1)
    stage.advance(1)
    stage.submit("o2", quantity=30)
    stage.advance(1)
    new = stage.broker_order("o2")
    if new.order_id != old.order_id:
        raise CaseNotPlayable(
            f"FAIL-05 cannot be set up against this subject: the broker offered orderId "
            f"{old.order_id} again but the engine sent {new.order_id} (its client moves past "
            "every orderId it has seen, as ib_async does), so no orderId is reused here"
        )
    stage.broker.fill(new.perm_id, Decimal(30), Decimal("99.00"))
    stage.advance(1)
    two = stage.expect_status("o2", "FILLED", why="its own fill of 30")
    stage.expect(two.filled == 30, f"o2 filled {two.filled}, the broker executed 30")
    one = stage.expect_status("o1", "WORKING", why="yesterday's order is still working")
    stage.expect(one.filled == 0, f"o1 shows {one.filled} filled from o2's execution")
    stage.broker.cancel_at_broker(old.perm_id, "expired")  # news about the old order
    stage.advance(1)
    stage.expect_status("o1", "CANCELED", why="the broker cancelled yesterday's order")
    stage.expect_status("o2", "FILLED", why="the old order's cancel is not about o2")
    stage.expect_code("ORDER_ID_REUSE")


@implements("FAIL-06", RESTART)
def gtc_survives_the_weekend(make: StageMaker) -> None:
    friday = datetime(2024, 1, 5, 15, 0, tzinfo=NEW_YORK)
    stage = make(start=friday).start()
    stage.submit("o1", tif=TimeInForce.GTC)
    at_broker = stage.broker_order("o1")
    stage.broker.new_day(datetime(2024, 1, 8, 9, 0, tzinfo=NEW_YORK))
    stage.subject.restart()
    stage.advance(1)
    facts = stage.expect_status("o1", "WORKING", why="the GTC order still works at the broker")
    stage.expect(facts.recovered, "the order found at startup is not flagged recovered")
    stage.expect(
        facts.perm_id == at_broker.perm_id,
        f"o1 recovered with permId {facts.perm_id}, the broker's is {at_broker.perm_id}",
    )
    stage.expect_code("RECONCILE_RECOVERED")


@implements("FAIL-07", FLATTEN)
def what_if_margin_during_flatten(make: StageMaker) -> None:
    stage = make().start()
    _long(stage, AAPL=100)
    stage.broker.set_what_if(WhatIfAnswer(margin_ok=False))
    mark = stage.broker.requests.mark()
    stage.subject.flatten("eod")
    stage.advance(10, step=1)
    placed = _placed_after(stage, mark)
    stage.expect(not placed, f"{len(placed)} flatten orders sent although what-if said no margin")
    held = _held(stage, "AAPL")
    stage.expect(held == 100, f"AAPL shows {held}, the broker still holds 100")
    stage.expect_code("FLATTEN_ABORTED")
