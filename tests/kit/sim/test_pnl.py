"""The P&L of TWS's Portfolio window at the SimBroker (kit/sim/pnl.py): daily P&L from the
fill prices for a position opened today and from the previous close for one held overnight,
realized P&L unset until a position held overnight trades, answers once per second of broker
time and only when a value changed."""

from __future__ import annotations

from decimal import Decimal

from ibguard.kit.sim.pnl import PnL, PnLSingle
from sim_recording import Recorder, market, quiet, stock

D = Decimal
ACCOUNT = "DU1234567"
AAPL = 265598


def test_daily_pnl_counts_from_the_fill_today_and_from_the_previous_close_overnight() -> None:
    broker = quiet()  # every stock at 100.00 until moved
    rec = Recorder()
    s = broker.connect(7, rec)
    s.place_order(1, stock(), market("BUY", 100))
    broker.pnl.subscribe(s, 5, ACCOUNT, "", AAPL)
    broker.flush()
    assert rec.of(PnLSingle)[-1] == PnLSingle(
        reqId=5, pos=D(100), dailyPnL=D(0), unrealizedPnL=D(0), realizedPnL=D(0), value=D(10000)
    )
    broker.set_price("AAPL", D("102.00"))
    broker.advance(1)
    assert (rec.of(PnLSingle)[-1].dailyPnL, rec.of(PnLSingle)[-1].unrealizedPnL) == (200, 200)
    broker.new_day()  # the market stands at 102: yesterday's close
    broker.set_price("AAPL", D("101.00"))
    broker.advance(1)
    overnight = rec.of(PnLSingle)[-1]
    assert (overnight.dailyPnL, overnight.unrealizedPnL) == (-100, 100)
    assert overnight.realizedPnL is None  # not traded today: unset, as TWS sends it
    s.place_order(2, stock(), market("SELL", 50))
    broker.advance(1)
    sold = rec.of(PnLSingle)[-1]
    # 50 sold at 101 realize 50 against the cost of 100; all 100 lost 1 against the close
    assert (sold.pos, sold.realizedPnL, sold.unrealizedPnL, sold.dailyPnL) == (50, 50, 50, -100)


def test_answers_come_at_most_once_a_second_and_only_when_changed() -> None:
    broker = quiet()
    rec = Recorder()
    s = broker.connect(7, rec)
    broker.pnl.subscribe(s, 6, ACCOUNT, "", None)
    broker.flush()
    assert rec.of(PnL) == [PnL(reqId=6, dailyPnL=D(0), unrealizedPnL=D(0), realizedPnL=D(0))]
    s.place_order(1, stock(), market("BUY", 10))
    broker.set_price("AAPL", D("100.50"))
    broker.advance(0.4)
    assert len(rec.of(PnL)) == 1  # within the second: coalesced
    broker.advance(0.6)
    assert rec.of(PnL)[-1] == PnL(reqId=6, dailyPnL=D(5), unrealizedPnL=D(5), realizedPnL=D(0))
    broker.advance(5)
    assert len(rec.of(PnL)) == 2  # nothing changed: nothing said
    broker.pnl.cancel(s, 6)
    broker.set_price("AAPL", D("99.00"))
    broker.advance(2)
    assert len(rec.of(PnL)) == 2


def test_a_futures_position_counts_its_multiplier_as_the_account_values_it() -> None:
    from ibguard.kit.sim import BrokerConfig, SimBroker
    from ibguard.kit.sim.messages import Contract, PortfolioValue

    broker = SimBroker(BrokerConfig(market_prices=True, farm_status_messages=False))
    rec = Recorder()
    s = broker.connect(7, rec)
    es = Contract(conId=533620665, secType="FUT", exchange="CME", currency="USD")  # ESH4: x50
    s.place_order(1, es, market("BUY", 2))
    broker.advance(600)
    broker.pnl.subscribe(s, 8, ACCOUNT, "", 533620665)
    s.req_account_updates(True, ACCOUNT)
    broker.flush()
    (line,) = (p for p in rec.of(PortfolioValue) if p.contract.conId == 533620665)
    single = rec.of(PnLSingle)[-1]
    assert single.value == line.marketValue.quantize(D("0.01"))
    assert single.unrealizedPnL == line.unrealizedPNL.quantize(D("0.01"))
    instrument = broker.instruments.by_con_id(533620665)
    assert instrument is not None
    mark = broker.market.price(instrument, broker.clock.broker_now())
    fill = broker.ledger.positions[(ACCOUNT, 533620665)].avg_cost
    assert single.unrealizedPnL == 2 * 50 * (mark - fill) != 0
