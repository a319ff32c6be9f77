"""The simulated account's money: values, portfolio, summary and the fill stream."""

from __future__ import annotations

from decimal import Decimal

from ibguard.kit.sim import messages as ib
from ibguard.kit.sim.account import SUMMARY_TAGS, summary_tags
from ibguard.kit.sim.account_stream import ACCOUNT_REFRESH
from sim_recording import Recorder, market, quiet, stock

D = Decimal
ACCOUNT = "DU1234567"


def values(rec: Recorder) -> dict[str, str | Decimal]:
    return {v.key: v.value for v in rec.of(ib.AccountValue)}


def test_account_updates_answer_values_portfolio_time_then_end() -> None:
    broker = quiet(start_cash=D("50000"))
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 100))  # 100 @ 100.00, commission 1.00
    broker.set_price("AAPL", D("110"))
    rec.clear()
    s.req_account_updates(True, "")
    kinds = rec.kinds()
    assert kinds[-3:] == ["PortfolioValue", "AccountUpdateTime", "AccountDownloadEnd"]
    assert set(kinds[:-3]) == {"AccountValue"}
    got = values(rec)
    assert got["AccountCode"] == ACCOUNT
    assert got["TotalCashValue"] == D("39999.00")
    assert got["NetLiquidation"] == D("50999.00")
    assert got["GrossPositionValue"] == D("11000.00")
    assert got["InitMarginReq"] == D("5500.00")
    assert got["MaintMarginReq"] == D("2750.00")
    assert got["AvailableFunds"] == D("45499.00")
    assert got["BuyingPower"] == D("181996.00")
    assert got["UnrealizedPnL"] == D("1000.00")
    item = rec.of(ib.PortfolioValue)[0]
    assert (item.position, item.marketPrice, item.marketValue) == (D(100), D(110), D(11000))
    assert item.averageCost == D(100)
    assert item.accountName == ACCOUNT


def test_fills_stream_only_while_subscribed_and_corrections_move_cash() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(7, rec)
    s.req_account_updates(True, ACCOUNT)
    rec.clear()
    s.place_order(1, stock(), market("BUY", 10))
    assert rec.of(ib.PortfolioValue)[-1].position == D(10)
    broker.advance(ACCOUNT_REFRESH.total_seconds())  # account values come on TWS's cadence
    assert values(rec)["TotalCashValue"] == D("998999.00")
    exec_id = rec.of(ib.ExecDetails)[-1].execution.execId
    rec.clear()
    broker.correct_execution(exec_id, price=D("90"))
    broker.advance(ACCOUNT_REFRESH.total_seconds())
    assert values(rec)["TotalCashValue"] == D("999099.00")
    s.req_account_updates(False, ACCOUNT)
    rec.clear()
    s.place_order(2, stock(), market("SELL", 10))
    assert rec.of(ib.PortfolioValue) == []
    assert rec.of(ib.AccountValue) == []


def test_fills_send_portfolio_lines_at_once_and_changed_values_every_3_minutes() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(7, rec)
    s.req_account_updates(True, ACCOUNT)
    rec.clear()
    for order_id in range(1, 11):  # ten fills inside one refresh period
        s.place_order(order_id, stock(), market("BUY", 1))
    assert len(rec.of(ib.PortfolioValue)) == 10  # positions and portfolio: immediately
    assert rec.of(ib.AccountValue) == []
    broker.advance(ACCOUNT_REFRESH.total_seconds() - 1)
    assert rec.of(ib.AccountValue) == []
    broker.advance(1)
    refreshed = values(rec)
    assert refreshed["TotalCashValue"] == D("998990.00")  # ten fills coalesced, 10 x 1.00 fee
    assert "AccountCode" not in refreshed  # unchanged keys are not sent again
    assert rec.kinds()[-1] == "AccountUpdateTime"
    rec.clear()
    broker.advance(ACCOUNT_REFRESH.total_seconds())  # nothing changed: nothing sent
    assert rec.kinds() == []


def test_other_sessions_and_the_in_process_front_hear_no_account_stream() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 10))
    assert rec.of(ib.AccountValue) == []
    assert rec.of(ib.PortfolioValue) == []


def test_account_summary_and_multi_rows_then_end() -> None:
    broker = quiet(accounts=("DU1", "DU2"))
    rec = Recorder()
    s = broker.connect(7, rec)
    s.req_account_summary(5, "All", "NetLiquidation,Bogus,BuyingPower")
    rows = rec.of(ib.AccountSummary)
    assert [(r.account, r.tag) for r in rows] == [
        ("DU1", "NetLiquidation"),
        ("DU1", "BuyingPower"),
        ("DU2", "NetLiquidation"),
        ("DU2", "BuyingPower"),
    ]
    assert rec.kinds()[-1] == "AccountSummaryEnd"
    rec.clear()
    s.req_account_updates_multi(9, "DU2", "")
    multi = rec.of(ib.AccountUpdateMulti)
    assert {m.account for m in multi} == {"DU2"}
    assert {m.reqId for m in multi} == {9}
    assert rec.of(ib.AccountUpdateMultiEnd) == [ib.AccountUpdateMultiEnd(reqId=9)]


def test_summary_tags() -> None:
    assert summary_tags("All") == SUMMARY_TAGS
    assert summary_tags(" NetLiquidation , $LEDGER ") == ("NetLiquidation",)
    assert summary_tags("") == ()
