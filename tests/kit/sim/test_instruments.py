"""The built-in catalog carries IB's identifiers, finds contracts the way TWS matches them,
and a user's instrument file extends it; a bad file is one ConfigError naming the problems."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ibguard.errors import ConfigError
from ibguard.kit.sim.instruments import Catalog
from ibguard.kit.sim.instruments_file import build_catalog, load_file
from ibguard.kit.sim.instruments_hours import parse_sessions
from ibguard.kit.sim.instruments_options import monthly_expiries
from ibguard.kit.sim.market import Market
from ibguard.kit.sim.messages import Contract

AS_OF = date(2024, 1, 2)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return build_catalog(AS_OF)


def _query(**fields: Any) -> Contract:
    """A client's contract: fields it leaves out are empty (match anything), as on the wire."""
    empty: dict[str, Any] = {"secType": "", "exchange": "", "currency": ""}
    return Contract(**{**empty, **fields})


def _one(catalog: Catalog, **query: object) -> object:
    found = catalog.find(_query(**query))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("symbol", "con_id", "primary", "long_name"),
    [
        ("AAPL", 265598, "NASDAQ", "APPLE INC"),
        ("SPY", 756733, "ARCA", "SPDR S&P 500 ETF TRUST"),
        ("QQQ", 320227571, "NASDAQ", "INVESCO QQQ TRUST SERIES 1"),
        ("MSFT", 272093, "NASDAQ", "MICROSOFT CORP"),
        ("IBM", 8314, "NYSE", "INTL BUSINESS MACHINES CORP"),
    ],
)
def test_stocks_carry_ibs_identifiers(
    catalog: Catalog, symbol: str, con_id: int, primary: str, long_name: str
) -> None:
    stock = catalog.find(_query(symbol=symbol, secType="STK", exchange="SMART", currency="USD"))
    assert [(s.con_id, s.primary_exchange, s.long_name) for s in stock] == [
        (con_id, primary, long_name)
    ]
    assert catalog.by_con_id(con_id) is stock[0]


def test_a_stock_is_found_by_conid_alone_and_by_its_primary_exchange(catalog: Catalog) -> None:
    assert _one(catalog, conId=265598).symbol == "AAPL"  # type: ignore[attr-defined]
    assert _one(catalog, symbol="AAPL", exchange="ISLAND").con_id == 265598  # type: ignore[attr-defined]
    assert catalog.find(_query(symbol="AAPL", currency="EUR")) == []
    assert catalog.find(_query(symbol="ZZZZ", secType="STK")) == []
    assert catalog.find(_query(conId=1)) == []


def test_the_fx_pair_is_on_idealpro_with_a_half_pip_tick(catalog: Catalog) -> None:
    eur = _one(catalog, symbol="EUR", secType="CASH", exchange="IDEALPRO", currency="USD")
    assert (eur.con_id, eur.local_symbol, eur.min_tick) == (12087792, "EUR.USD", Decimal("0.00005"))  # type: ignore[attr-defined]
    assert eur.trading_hours(date(2024, 1, 8)).startswith(  # type: ignore[attr-defined]
        "20240107:1715-20240108:1700;20240108:1715-20240109:1700"
    )


def test_futures_match_by_month_or_local_symbol_and_trade_in_chicago(catalog: Catalog) -> None:
    es = _one(
        catalog, symbol="ES", secType="FUT", exchange="CME", lastTradeDateOrContractMonth="202403"
    )
    assert (es.con_id, es.local_symbol, es.multiplier, es.min_tick) == (  # type: ignore[attr-defined]
        533620665,
        "ESH4",
        "50",
        Decimal("0.25"),
    )
    assert _one(catalog, localSymbol="ESZ5", secType="FUT").con_id == 495512563  # type: ignore[attr-defined]
    assert es.time_zone_id == "US/Central"  # type: ignore[attr-defined]
    assert es.liquid_hours(date(2024, 1, 8)).startswith("20240108:0830-20240108:1500")  # type: ignore[attr-defined]
    assert len(catalog.find(_query(symbol="ES", secType="FUT"))) == 9  # ambiguous


def test_option_chains_list_monthly_expiries_strikes_and_rights(catalog: Catalog) -> None:
    expiries = monthly_expiries(AS_OF, 4)
    assert expiries == [date(2024, 1, 19), date(2024, 2, 16), date(2024, 3, 15), date(2024, 4, 19)]
    for underlying in ("AAPL", "SPY"):
        chain = catalog.find(_query(symbol=underlying, secType="OPT"))
        assert len(chain) == 4 * 21 * 2
        assert {o.last_trade_date for o in chain} == {f"{e:%Y%m%d}" for e in expiries}
    call = _one(
        catalog,
        symbol="AAPL",
        secType="OPT",
        lastTradeDateOrContractMonth="20240119",
        strike=Decimal(185),
        right="CALL",
    )
    assert call.local_symbol == "AAPL  240119C00185000"  # type: ignore[attr-defined]
    assert call.under_con_id == 265598  # type: ignore[attr-defined]
    assert call.multiplier == "100"  # type: ignore[attr-defined]


def test_trading_hours_are_in_tws_format_with_closed_weekends(catalog: Catalog) -> None:
    aapl = catalog.by_con_id(265598)
    assert aapl is not None
    assert aapl.time_zone_id == "US/Eastern"
    text = aapl.liquid_hours(date(2024, 1, 5))
    assert text.split(";")[:3] == [
        "20240105:0930-20240105:1600",
        "20240106:CLOSED",
        "20240107:CLOSED",
    ]


def test_matching_symbols_finds_by_prefix_and_by_name(catalog: Catalog) -> None:
    assert [i.symbol for i in catalog.matching_symbols("AA")][:1] == ["AAPL"]
    assert "MSFT" in [i.symbol for i in catalog.matching_symbols("micro")]
    assert catalog.matching_symbols("") == []


def test_a_file_adds_instruments_and_replaces_by_conid(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text(
        '[[instrument]]\nsymbol = "SAP"\nsec_type = "STK"\ncon_id = 14204\nexchange = "SMART"\n'
        'primary_exchange = "IBIS"\ncurrency = "EUR"\nlong_name = "SAP SE"\n'
        'time_zone_id = "Europe/Berlin"\ntrading_hours = ["0900-1730 MO-FR"]\n'
        'price = { start = "139.00" }\n'
        '[[instrument]]\nsymbol = "AAPL"\nsec_type = "STK"\ncon_id = 265598\n'
        'exchange = "SMART"\nprimary_exchange = "NASDAQ"\ncurrency = "USD"\n'
        'long_name = "APPLE INC (MINE)"\nprice = { start = "10.00" }\n'
    )
    catalog = build_catalog(AS_OF, files=(extra,))
    sap = catalog.by_con_id(14204)
    assert sap is not None
    assert sap.currency == "EUR"
    assert sap.liquid_hours(date(2024, 1, 2)).startswith("20240102:0900-20240102:1730")
    assert [i.long_name for i in catalog.by_symbol("AAPL") if i.sec_type == "STK"] == [
        "APPLE INC (MINE)"
    ]


def test_json_files_work_too(tmp_path: Path) -> None:
    extra = tmp_path / "mine.json"
    extra.write_text(
        json.dumps(
            {
                "instrument": [
                    {
                        "symbol": "XYZ",
                        "sec_type": "STK",
                        "con_id": 99,
                        "exchange": "SMART",
                        "currency": "USD",
                        "price": {"start": "5"},
                    }
                ]
            }
        )
    )
    assert [i.symbol for i in load_file(extra).instruments] == ["XYZ"]


def test_a_bad_file_reports_every_problem_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[instrument]]\nsymbol = "A"\nsec_type = "BOND"\ncon_id = 1\nexchange = "X"\n'
        'currency = "USD"\nprice = { start = "1" }\n'
        '[[instrument]]\nsymbol = "B"\nsec_type = "STK"\ncon_id = 2\nexchange = "X"\n'
        'currency = "USD"\ncolour = "red"\nprice = { start = "-1" }\n'
        '[[instrument]]\nsymbol = "C"\nsec_type = "STK"\ncon_id = 3\nexchange = "X"\n'
        'currency = "USD"\ntrading_hours = ["9-5"]\nprice = { start = "1" }\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_file(bad)
    problems = caught.value.errors
    assert len(problems) == 4, problems
    assert all(p.startswith("[[instrument]] #") for p in problems)
    assert str(bad) in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("content", ["not toml [", "[[instrument]]\nsymbol = 3\n"])
def test_unreadable_files_are_config_errors(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(content)
    with pytest.raises(ConfigError):
        load_file(bad)
    with pytest.raises(ConfigError):
        load_file(tmp_path / "missing.toml")


def test_sessions_cross_midnight_and_skip_unlisted_days() -> None:
    fx = parse_sessions("US/Eastern", ["1715-1700 SU-TH"])
    sunday_night = datetime(2024, 1, 7, 23, 0, tzinfo=timezone.utc)
    saturday = datetime(2024, 1, 6, 15, 0, tzinfo=timezone.utc)
    assert fx.session_at(sunday_night) is not None
    assert fx.session_at(saturday) is None
    close = fx.last_close(saturday)
    assert close is not None
    assert close.isoformat() == "2024-01-05T17:00:00-05:00"


def test_option_quotes_come_from_black_scholes_on_the_underlying(catalog: Catalog) -> None:
    market = Market(catalog)
    when = datetime(2024, 1, 3, 15, 0, tzinfo=timezone.utc)
    spot = market.quote(catalog.by_con_id(265598), when).mid  # type: ignore[arg-type]
    chain = catalog.find(
        _query(symbol="AAPL", secType="OPT", lastTradeDateOrContractMonth="20240216")
    )
    calls = sorted((o for o in chain if o.right == "C"), key=lambda o: o.strike)
    prices = [market.quote(o, when).mid for o in calls]
    assert prices == sorted(prices, reverse=True)  # calls cheapen as the strike rises
    deep = calls[0]
    assert market.quote(deep, when).mid >= spot - deep.strike  # worth at least intrinsic
    analytics = market.option_analytics(calls[10], when)
    assert 0 < analytics.greeks.delta < 1
    assert analytics.underlying_price == spot


def test_a_catalog_dated_after_the_listed_futures_still_has_quarterly_contracts() -> None:
    later = build_catalog(date(2026, 12, 4))
    es = _one(
        later, symbol="ES", secType="FUT", exchange="CME", lastTradeDateOrContractMonth="202612"
    )
    assert (es.local_symbol, es.last_trade_date, es.multiplier) == ("ESZ6", "20261218", "50")  # type: ignore[attr-defined]
    assert es.con_id not in {i.con_id for i in build_catalog(AS_OF)}  # type: ignore[attr-defined]
    months = sorted(i.last_trade_date[:6] for i in later if i.sec_type == "FUT")
    assert months[-1] == "202709"  # a year ahead, quarterly
