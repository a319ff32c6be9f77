"""The checks TWS applies to a new order and to a modify, as pure functions: one refusal per
bad field, none for a good order, the first refusal wins."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from ibguard.kit.sim import messages as ib
from ibguard.kit.sim.book import SimOrder
from ibguard.kit.sim.order_checks import check_modify, check_new_order

D = Decimal
GOOD = ib.Order(action="BUY", totalQuantity=D(10), orderType="LMT", lmtPrice=D("100.25"))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({}, None),
        ({"totalQuantity": D(0)}, 434),
        ({"totalQuantity": D(-1)}, 321),
        ({"lmtPrice": D("100.255")}, 110),
        ({"lmtPrice": D("-0.01")}, 201),
        ({"lmtPrice": None}, 107),
        ({"orderType": "NOPE"}, 387),
        ({"tif": "NEVER"}, 321),
        ({"orderType": "STP", "auxPrice": D(99), "tif": "OPG"}, 111),
        ({"eTradeOnly": True, "totalQuantity": D(0)}, 10268),  # first refusal wins
        ({"firmQuoteOnly": True}, 10269),
        ({"orderType": "MKT", "lmtPrice": None}, None),
        ({"orderType": "STP", "auxPrice": D("99.5"), "lmtPrice": None}, None),
    ],
)
def test_new_order_checks(changes: dict[str, object], code: int | None) -> None:
    order = ib.Order(**{**_fields(GOOD), **changes})  # type: ignore[arg-type]
    refusal = check_new_order(order, sec_type="STK", min_tick=D("0.01"))
    assert (refusal.code if refusal else None) == code


def test_a_negative_price_is_allowed_for_futures_spreads_and_combos() -> None:
    order = ib.Order(**{**_fields(GOOD), "lmtPrice": D("-1.25")})  # type: ignore[arg-type]
    assert check_new_order(order, sec_type="BAG", min_tick=D("0.01")) is None


def test_modify_checks() -> None:
    booked = SimOrder(
        order_id=1,
        client_id=7,
        perm_id=11,
        contract=ib.Contract(symbol="AAPL"),
        action="BUY",
        quantity=D(10),
        order_type="LMT",
        lmt_price=D(100),
        tif="DAY",
        account="DU1",
        order_ref="",
        placed_at=datetime(2024, 1, 2, tzinfo=timezone.utc),
        filled=D(4),
    )
    tick = D("0.01")
    assert check_modify(booked, GOOD, min_tick=tick) is None
    sell = ib.Order(**{**_fields(GOOD), "action": "SELL"})  # type: ignore[arg-type]
    assert check_modify(booked, sell, min_tick=tick).code == 105  # type: ignore[union-attr]
    small = ib.Order(**{**_fields(GOOD), "totalQuantity": D(3)})  # type: ignore[arg-type]
    assert check_modify(booked, small, min_tick=tick).code == 134  # type: ignore[union-attr]
    zero = ib.Order(**{**_fields(GOOD), "totalQuantity": D(0)})  # type: ignore[arg-type]
    assert check_modify(booked, zero, min_tick=tick).code == 434  # type: ignore[union-attr]


def _fields(order: ib.Order) -> dict[str, object]:
    return {name: getattr(order, name) for name in order.__dataclass_fields__}
