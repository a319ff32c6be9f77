"""The Reg T margin model (kit/sim/margins.py), with numbers worked out by hand."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ibguard.kit.sim.margins import (
    Holding,
    MarginRates,
    Requirement,
    Trade,
    account_margin,
    multiplier_of,
    requirement,
    what_if,
)

D = Decimal
RATES = MarginRates()


def stock(quantity: str, price: str) -> Holding:
    return Holding(sec_type="STK", quantity=D(quantity), price=D(price))


def option(quantity: str, price: str, right: str, strike: str, under: str) -> Holding:
    return Holding(
        sec_type="OPT",
        quantity=D(quantity),
        price=D(price),
        multiplier=D(100),
        right=right,
        strike=D(strike),
        underlying_price=D(under),
    )


def es(quantity: str, price: str = "4783") -> Holding:
    return Holding(
        sec_type="FUT",
        quantity=D(quantity),
        price=D(price),
        multiplier=D(50),
        future_initial=D("13302"),
        future_maintenance=D("12092"),
    )


def test_buying_stock_on_reg_t_raises_initial_margin_by_half_the_notional() -> None:
    # 100 AAPL at 200.00 = 20,000 notional: initial 50% = 10,000, maintenance 25% = 5,000;
    # cash pays 20,000 + 1.00 commission, the shares are worth 20,000: equity with loan -1
    w = what_if(
        cash=D(100_000),
        others=(),
        position=stock("0", "200"),
        trade=Trade(quantity=D(100), price=D(200), commission=D("1.00")),
        rates=RATES,
    )
    assert (w.before.initial, w.after.initial, w.initial_change) == (0, 10_000, 10_000)
    assert (w.after.maintenance, w.maintenance_change) == (5_000, 5_000)
    assert (w.before.equity_with_loan, w.after.equity_with_loan) == (100_000, D("99999.00"))
    assert w.equity_with_loan_change == D("-1.00")
    assert w.accepted


def test_existing_positions_are_the_before_and_stay_in_the_after() -> None:
    held = stock("200", "50")  # 10,000: initial 5,000, maintenance 2,500
    w = what_if(
        cash=D(40_000),
        others=(held,),
        position=stock("0", "100"),
        trade=Trade(quantity=D(10), price=D(100)),
        rates=RATES,
    )
    assert (w.before.initial, w.before.maintenance) == (5_000, 2_500)
    assert (w.after.initial, w.after.maintenance) == (5_500, 2_750)
    assert w.before.equity_with_loan == w.after.equity_with_loan == 50_000


def test_buying_at_a_price_above_the_mark_costs_equity_with_loan_the_difference() -> None:
    w = what_if(
        cash=D(10_000),
        others=(),
        position=stock("0", "100"),  # marked at 100
        trade=Trade(quantity=D(10), price=D("100.05")),  # bought at the ask
        rates=RATES,
    )
    assert w.equity_with_loan_change == D("-0.50")


def test_selling_stock_the_account_holds_lowers_margin_to_zero() -> None:
    w = what_if(
        cash=D(0),
        others=(),
        position=stock("100", "50"),
        trade=Trade(quantity=D(-100), price=D(50)),
        rates=RATES,
    )
    assert (w.before.initial, w.after.initial, w.initial_change) == (2_500, 0, -2_500)
    assert w.after.maintenance == 0
    assert w.after.equity_with_loan == w.before.equity_with_loan == 5_000


@pytest.mark.parametrize(
    ("price", "initial", "maintenance"),
    [
        ("100", "50", "30"),  # above 16.67: 30% maintenance, Reg T 50% initial
        ("10", "5", "5"),  # 5.00-16.67: $5.00 a share
        ("4", "4", "4"),  # 2.50-5.00: 100% of the price
        ("2", "2.50", "2.50"),  # at or below 2.50: $2.50 a share
    ],
)
def test_short_stock_margin_follows_ibs_price_table(
    price: str, initial: str, maintenance: str
) -> None:
    assert requirement(stock("-100", price), RATES) == Requirement(
        D(initial) * 100, D(maintenance) * 100
    )


def test_long_option_needs_no_margin_and_its_premium_is_paid_in_full() -> None:
    # 2 calls at 3.00 x 100: cash pays 600; US options are left out of equity with loan
    w = what_if(
        cash=D(10_000),
        others=(),
        position=option("0", "3", "C", "105", "100"),
        trade=Trade(quantity=D(2), price=D(3)),
        rates=RATES,
    )
    assert (w.after.initial, w.after.maintenance) == (0, 0)
    assert w.after.equity_with_loan == 9_400
    assert w.after.net_liquidation == 10_000
    assert w.equity_with_loan_change == -600


@pytest.mark.parametrize(
    ("right", "strike", "price", "per_contract"),
    [
        # call 5 out of the money: 2.50 + max(20% x 100 - 5, 10% x 100) = 17.50
        ("C", "105", "2.50", "1750"),
        # far out of the money: 0.10 + max(20 - 50, 10% x 100) = 10.10
        ("C", "150", "0.10", "1010"),
        # put 10 out of the money: 1 + max(20 - 10, 10% x 90) = 11
        ("P", "90", "1", "1100"),
        # far out of the money put: 0.05 + max(20 - 50, 10% x 50) = 5.05
        ("P", "50", "0.05", "505"),
        # in the money call: 12 + max(20% x 100, 10) = 32
        ("C", "90", "12", "3200"),
    ],
)
def test_short_option_margin_is_premium_plus_the_greater_of_ibs_two_amounts(
    right: str, strike: str, price: str, per_contract: str
) -> None:
    need = requirement(option("-2", price, right, strike, "100"), RATES)
    assert need == Requirement(D(per_contract) * 2, D(per_contract) * 2)


def test_futures_margin_is_per_contract_from_the_catalog_and_holds_no_gross_value() -> None:
    money = account_margin(D(100_000), (es("2"), stock("100", "50")), RATES)
    assert (money.initial, money.maintenance) == (26_604 + 2_500, 24_184 + 1_250)
    assert money.gross_position_value == 5_000  # the stock's; futures are left out


def test_a_future_without_catalog_figures_needs_a_share_of_its_notional() -> None:
    plain = Holding(sec_type="FUT", quantity=D(-1), price=D(4000), multiplier=D(50))
    assert requirement(plain, RATES) == Requirement(D(24_000), D(20_000))  # 12% / 10%


def test_fx_margin_is_two_and_a_half_percent_of_the_notional() -> None:
    eur = Holding(sec_type="CASH", quantity=D(20_000), price=D("1.10"))
    assert requirement(eur, RATES) == Requirement(D(550), D(550))


def test_an_order_beyond_the_equity_is_answered_but_not_accepted() -> None:
    w = what_if(
        cash=D(10_000),
        others=(),
        position=stock("0", "50"),
        trade=Trade(quantity=D(1_000), price=D(50)),
        rates=RATES,
    )
    assert (w.after.initial, w.after.equity_with_loan) == (25_000, 10_000)
    assert not w.accepted


def test_an_account_in_deficit_may_still_close() -> None:
    # 1,000 shares at 50 bought on 45,000 of loan: equity 5,000 against 25,000 initial
    held = stock("1000", "50")
    w = what_if(
        cash=D(-45_000), others=(), position=held, trade=Trade(quantity=D(-100), price=D(50)),
        rates=RATES,
    )  # fmt: skip
    assert w.before.available_funds < 0
    assert w.initial_change == -2_500
    assert w.accepted


@pytest.mark.parametrize(
    ("text", "value"), [("", "1"), ("100", "100"), ("50", "50"), ("x", "1"), ("-5", "1")]
)
def test_a_contract_multiplier_reads_as_a_number_and_defaults_to_one(text: str, value: str) -> None:
    assert multiplier_of(text) == D(value)


_prices = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)
_quantities = st.integers(min_value=-500, max_value=500).filter(bool).map(D)


@st.composite
def holdings(draw: st.DrawFn) -> Holding:
    kind = draw(st.sampled_from(["STK", "OPT", "FUT", "CASH"]))
    quantity, price = draw(_quantities), draw(_prices)
    if kind == "OPT":
        right = draw(st.sampled_from(["C", "P"]))
        return option(str(quantity), str(price), right, str(draw(_prices)), str(draw(_prices)))
    if kind == "FUT":
        return es(str(quantity), str(price))
    return Holding(sec_type=kind, quantity=quantity, price=price)


@given(
    held=holdings(),
    others=st.lists(holdings(), max_size=3),
    percent=st.integers(min_value=0, max_value=100),
    cash=_prices,
)
def test_closing_part_or_all_of_a_position_never_raises_margin(
    held: Holding, others: list[Holding], percent: int, cash: Decimal
) -> None:
    closing = -(held.quantity * percent / 100).to_integral_value(rounding=ROUND_DOWN)
    trade = Trade(quantity=closing, price=held.price)
    w = what_if(cash=cash, others=others, position=held, trade=trade, rates=RATES)
    assert w.after.initial <= w.before.initial
    assert w.after.maintenance <= w.before.maintenance
    assert w.accepted


@given(held=holdings())
def test_a_requirement_is_never_negative_and_initial_covers_maintenance(held: Holding) -> None:
    need = requirement(held, RATES)
    assert 0 <= need.maintenance <= need.initial
