"""Exchange holidays: the catalog's stocks close on NYSE's holidays and ES on CME's full
closures, in their tradingHours text (``YYYYMMDD:CLOSED``) and in the price model; FX trades
through them."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from ibguard.errors import ConfigError
from ibguard.kit.sim.instruments import Catalog, Instrument
from ibguard.kit.sim.instruments_file import build_catalog, load_file
from ibguard.kit.sim.instruments_hours import cme_holidays, us_equity_holidays
from ibguard.kit.sim.market import Market

# NYSE Group's announced calendars (2025-12-23 release for 2026-2028)
NYSE_2026 = [
    date(2026, 1, 1),
    date(2026, 1, 19),
    date(2026, 2, 16),
    date(2026, 4, 3),
    date(2026, 5, 25),
    date(2026, 6, 19),
    date(2026, 7, 3),  # Independence Day observed
    date(2026, 9, 7),
    date(2026, 11, 26),
    date(2026, 12, 25),
]
NYSE_2027 = [
    date(2027, 1, 1),
    date(2027, 1, 18),
    date(2027, 2, 15),
    date(2027, 3, 26),
    date(2027, 5, 31),
    date(2027, 6, 18),  # Juneteenth observed
    date(2027, 7, 5),  # Independence Day observed
    date(2027, 9, 6),
    date(2027, 11, 25),
    date(2027, 12, 24),  # Christmas observed
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return build_catalog(date(2026, 11, 20))


def _one(catalog: Catalog, symbol: str, sec_type: str) -> Instrument:
    found = [i for i in catalog.by_symbol(symbol) if i.sec_type == sec_type]
    return sorted(found, key=lambda i: i.last_trade_date)[-1]


@pytest.mark.parametrize(("year", "published"), [(2026, NYSE_2026), (2027, NYSE_2027)])
def test_us_equity_holidays_are_nyses_published_calendar(year: int, published: list[date]) -> None:
    assert sorted(us_equity_holidays(year)) == published


def test_a_new_years_day_on_a_saturday_closes_no_friday() -> None:
    assert date(2027, 12, 31) not in us_equity_holidays(2027)
    assert not [d for d in us_equity_holidays(2028) if d.month == 1 and d.day < 3]


def test_a_stocks_trading_hours_say_closed_on_thanksgiving(catalog: Catalog) -> None:
    aapl = _one(catalog, "AAPL", "STK")
    days = aapl.liquid_hours(date(2026, 11, 25)).split(";")
    assert days[:3] == [
        "20261125:0930-20261125:1600",
        "20261126:CLOSED",
        "20261127:0930-20261127:1600",
    ]
    assert "20261126:CLOSED" in aapl.trading_hours(date(2026, 11, 25))


def test_an_option_closes_with_its_underlying(catalog: Catalog) -> None:
    option = _one(catalog, "AAPL", "OPT")
    assert "20261126:CLOSED" in option.trading_hours(date(2026, 11, 23))


def test_es_closes_for_christmas_and_fx_trades_through_it(catalog: Catalog) -> None:
    es = _one(catalog, "ES", "FUT")
    text = es.trading_hours(date(2026, 12, 23)).split(";")
    assert text[:3] == [
        "20261222:1700-20261223:1600",
        "20261223:1700-20261224:1600",
        "20261225:CLOSED",
    ]
    assert date(2026, 12, 25) in cme_holidays(2026)
    assert date(2026, 11, 26) not in cme_holidays(2026)  # an early halt, not a closure
    eur = _one(catalog, "EUR", "CASH")
    assert "20261225:CLOSED" not in eur.trading_hours(date(2026, 12, 24))


def test_the_price_model_has_no_bar_on_a_holiday(catalog: Catalog) -> None:
    aapl = _one(catalog, "AAPL", "STK")
    market = Market(catalog, anchor=datetime(2026, 11, 2, 14, 30, tzinfo=aapl.trading.zone))
    zone = aapl.liquid.zone

    def day(d: date) -> tuple[datetime, datetime]:
        return datetime.combine(d, time(0), zone), datetime.combine(d, time(23, 59), zone)

    assert market.bar(aapl, *day(date(2026, 11, 26)), rth=False) is None
    assert market.bar(aapl, *day(date(2026, 11, 27)), rth=False) is not None
    holiday_noon = datetime.combine(date(2026, 11, 26), time(12), zone)
    assert aapl.trading.session_at(holiday_noon) is None


def test_an_instrument_file_names_its_calendar_or_none(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    body = (
        '[[instrument]]\nsymbol = "{s}"\nsec_type = "STK"\ncon_id = {c}\nexchange = "SMART"\n'
        'primary_exchange = "NYSE"\ncurrency = "USD"\ncalendar = "{cal}"\n'
        'price = {{ start = "10" }}\n'
    )
    extra.write_text(body.format(s="OPEN", c=91, cal="") + body.format(s="SHUT", c=92, cal="NYSE"))
    always, usual = load_file(extra).instruments
    thanksgiving = date(2026, 11, 26)
    assert "20261126:CLOSED" not in always.liquid_hours(thanksgiving)
    assert "20261126:CLOSED" in usual.liquid_hours(thanksgiving)
    extra.write_text(body.format(s="BAD", c=93, cal="LSE"))
    with pytest.raises(ConfigError, match="calendar"):
        load_file(extra)
