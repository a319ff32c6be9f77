"""What-if answers and account values of the SimBroker, computed from its account: the Reg T
model of kit/sim/margins.py applied to the ledger's positions, with multipliers."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ibguard.kit.sim import SimBroker, WhatIfAnswer
from ibguard.kit.sim import messages as ib
from ibguard.kit.sim.session import ApiSession
from sim_recording import Recorder, limit, market, quiet, stock

D = Decimal
ACCOUNT = "DU1234567"


def what_if(s: ApiSession, rec: Recorder, contract: ib.Contract, order: ib.Order) -> ib.OrderState:
    rec.clear()
    s.place_order(900, contract, replace(order, whatIf=True))
    (answer,) = rec.of(ib.OpenOrder)
    assert answer.order.whatIf
    return answer.orderState


def account_values(s: ApiSession, rec: Recorder) -> dict[str, str | Decimal]:
    rec.clear()
    s.req_account_updates(True, ACCOUNT)
    s.req_account_updates(False, ACCOUNT)
    return {v.key: v.value for v in rec.of(ib.AccountValue)}


def portfolio(s: ApiSession, rec: Recorder) -> list[ib.PortfolioValue]:
    rec.clear()
    s.req_account_updates(True, ACCOUNT)
    s.req_account_updates(False, ACCOUNT)
    return rec.of(ib.PortfolioValue)


def test_what_if_for_a_stock_buy_answers_reg_t_margins_from_the_account() -> None:
    broker = quiet(start_cash=D(100_000))  # every stock at 100.00, commission 1.00 minimum
    rec = Recorder()
    s = broker.connect(7, rec)
    state = what_if(s, rec, stock(), market("BUY", 100))
    assert (state.initMarginBefore, state.initMarginChange, state.initMarginAfter) == (
        0,
        D("5000.00"),
        D("5000.00"),
    )
    assert (state.maintMarginBefore, state.maintMarginAfter) == (0, D("2500.00"))
    assert (state.equityWithLoanBefore, state.equityWithLoanAfter) == (100_000, D("99999.00"))
    assert state.equityWithLoanChange == D("-1.00")
    assert (state.commission, state.commissionCurrency, state.warningText) == (
        D("1.00"),
        "USD",
        "",
    )
    assert broker.orders() == ()
    assert broker.requests.placed() == ()


def test_the_accounts_positions_move_the_what_if_answer() -> None:
    broker = quiet(start_cash=D(100_000))
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 200))  # 20,000 at 100.00 + 1.00
    more = what_if(s, rec, stock(), market("BUY", 100))
    assert (more.initMarginBefore, more.initMarginAfter) == (D("10000.00"), D("15000.00"))
    assert (more.equityWithLoanBefore, more.equityWithLoanAfter) == (D("99999.00"), D("99998.00"))
    closing = what_if(s, rec, stock(), market("SELL", 200))
    assert (closing.initMarginChange, closing.initMarginAfter) == (D("-10000.00"), 0)
    assert closing.maintMarginChange == D("-5000.00")
    other = what_if(s, rec, stock("MSFT"), market("BUY", 10))
    assert (other.initMarginBefore, other.initMarginChange) == (D("10000.00"), D("500.00"))


def test_what_ifs_before_is_what_the_account_reports() -> None:
    broker = quiet(start_cash=D(100_000))
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 300))
    s.place_order(2, stock("MSFT"), market("SELL", 100))
    values = account_values(s, rec)
    state = what_if(s, rec, stock("IBM"), limit("BUY", 10, "99"))
    assert state.initMarginBefore == values["InitMarginReq"] == D("20000.00")
    assert state.maintMarginBefore == values["MaintMarginReq"] == D("10500.00")  # 25% + 30%
    assert state.equityWithLoanBefore == values["EquityWithLoanValue"]
    assert state.initMarginChange == D("500.00")  # margin on the value at the mark
    assert state.equityWithLoanChange == D("9.00")  # 10 paid 99.00 for 100.00, 1.00 commission


def test_an_order_beyond_the_accounts_funds_is_answered_with_its_numbers_and_a_warning() -> None:
    broker = quiet(start_cash=D(10_000))
    rec = Recorder()
    s = broker.connect(7, rec)
    state = what_if(s, rec, stock(), market("BUY", 1000))  # 100,000: initial 50,000
    assert state.initMarginAfter == D("50000.00")
    assert state.equityWithLoanAfter == D("9995.00")  # 5.00 commission
    assert "MUST EXCEED THE INITIAL MARGIN" in state.warningText
    assert broker.orders() == ()


def test_a_scripted_answer_overrides_the_computed_one_until_cleared() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(7, rec)
    broker.set_what_if(WhatIfAnswer(margin_ok=False))
    assert what_if(s, rec, stock(), market("BUY", 1)).warningText
    broker.set_what_if(None)
    assert what_if(s, rec, stock(), market("BUY", 1)).warningText == ""


def test_what_if_for_an_unknown_contract_answers_200() -> None:
    broker = quiet(create_unknown_contracts=False)
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(900, stock("NOPE"), replace(market("BUY", 1), whatIf=True))
    assert rec.errors() == [200]
    assert rec.of(ib.OpenOrder) == []


def _aapl_option(broker: SimBroker) -> ib.Contract:
    query = ib.Contract(symbol="AAPL", secType="OPT", right="C", exchange="SMART")
    calls = broker.instruments.find(query)
    return ib.Contract(conId=calls[len(calls) // 2].con_id, secType="OPT")


def test_an_option_position_is_valued_with_its_multiplier() -> None:
    broker = quiet(market_prices=True, start_cash=D(100_000))
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(1, _aapl_option(broker), market("BUY", 2))
    fill = rec.of(ib.ExecDetails)[-1].execution.price
    (line,) = portfolio(s, rec)
    assert line.position == 2
    assert line.marketValue == 2 * line.marketPrice * 100
    assert line.averageCost == fill * 100
    assert line.unrealizedPNL == 2 * (line.marketPrice - fill) * 100
    values = account_values(s, rec)
    cash = D(100_000) - 2 * fill * 100 - D("1.00")
    assert values["TotalCashValue"] == cash.quantize(D("0.01"))
    assert values["OptionMarketValue"] == line.marketValue.quantize(D("0.01"))
    # the premium left cash, and US options do not count toward equity with loan
    assert values["EquityWithLoanValue"] == values["TotalCashValue"]
    assert values["InitMarginReq"] == 0
    rec.clear()
    s.req_positions()
    (position,) = rec.of(ib.Position)
    assert position.avgCost == fill * 100


def test_a_future_holds_no_cash_and_needs_its_catalog_margin_per_contract() -> None:
    broker = quiet(start_cash=D(100_000))  # ES at the fixed 100.00: 5,000 a contract
    rec = Recorder()
    s = broker.connect(7, rec)
    es = ib.Contract(
        symbol="ES", secType="FUT", exchange="CME", lastTradeDateOrContractMonth="202403"
    )
    state = what_if(s, rec, es, market("BUY", 2))
    assert (state.initMarginChange, state.maintMarginChange) == (D("26604.00"), D("24184.00"))
    s.place_order(1, es, market("BUY", 2))
    (line,) = portfolio(s, rec)
    assert (line.marketValue, line.averageCost) == (D(10_000), D(5_000))
    values = account_values(s, rec)
    assert values["TotalCashValue"] == D("99999.00")  # the commission only
    assert values["NetLiquidation"] == D("99999.00")
    assert values["GrossPositionValue"] == 0
    assert values["InitMarginReq"] == D("26604.00")


def test_a_short_call_what_if_takes_the_underlyings_price_from_the_model() -> None:
    broker = quiet(market_prices=True, start_cash=D(100_000))
    rec = Recorder()
    s = broker.connect(7, rec)
    contract = _aapl_option(broker)
    option = broker.contracts.lookup(contract)
    underlying = broker.contracts.resolve("AAPL")
    assert option is not None
    assert underlying is not None
    spot, premium = broker.contracts.mark(underlying), broker.contracts.mark(option)
    out_of_money = max(option.contract.strike - spot, D(0))
    assert option.contract.strike != spot  # the strike standing in for it would differ
    per_share = premium + max(D("0.20") * spot - out_of_money, D("0.10") * spot)
    state = what_if(s, rec, contract, market("SELL", 2))
    assert state.initMarginChange == (2 * 100 * per_share).quantize(D("0.01"))
    assert state.maintMarginChange == state.initMarginChange
