"""Orders as TWS checks them, end to end with both official IBKR clients (EClient/EWrapper:
`ibapi` 9.81 at server version 157, 10.x at 178; `ibapi_apps`): every validation code of
docs/tws-order-errors.md for the order's id with nothing booked, a modify by orderId and the
codes TWS answers to modifies it refuses, brackets (parentId, transmit, the children's OCA
group), explicit OCA groups and a missing parent. The same checks for ib_async and ib_insync
are in test_e2e_order_checks.py.

10.x has no eTradeOnly / firmQuoteOnly attributes (its Order lacks them and it sends them
empty), so a 10.x app cannot ask for what 10268/10269 refuse: those two cases are 9.81's."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from ibguard.kit.gateway.thread_host import GatewayThread
from ibguard.kit.sim import BrokerConfig, SimBroker

from .ibapi10 import Ibapi10
from .ibapi_apps import OFFICIAL, SERVER_VERSION, App, contract, official_app, order
from .test_e2e_order_checks import CASES, Case

NOT_IN_10X = {"e-trade-only", "firm-quote-only"}
ORDER_ID = 50
Session = tuple[App, SimBroker, GatewayThread]


def _session(client: str, request: pytest.FixtureRequest) -> Iterator[Session]:
    ibapi10 = request.getfixturevalue("ibapi10") if client == "ibapi-10" else None
    if client == "ibapi-9.81":
        pytest.importorskip("ibapi")
    broker = SimBroker(BrokerConfig(farm_status_messages=False))
    with GatewayThread(broker) as gateway, official_app(client, gateway.port, 41, ibapi10) as app:
        assert app.server_version == SERVER_VERSION[client]
        yield app, broker, gateway


@pytest.fixture(params=OFFICIAL)
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    """An official-client app on a quiet paper account (every price 100)."""
    yield from _session(request.param, request)


@pytest.fixture
def refused_session(request: pytest.FixtureRequest) -> Iterator[Session]:
    yield from _session(request.node.callspec.params["client"], request)


REFUSALS = [
    pytest.param(client, case, id=f"{client}-{case.name}")
    for client in OFFICIAL
    for case in CASES
    if not (client == "ibapi-10" and case.name in NOT_IN_10X)
]


@pytest.mark.parametrize(("client", "case"), REFUSALS)
def test_the_official_clients_get_tws_codes_and_nothing_is_booked(
    refused_session: Session, client: str, case: Case
) -> None:
    app, broker, gateway = refused_session
    fields: dict[str, Any] = {"lmtPrice": 100.0, **case.fields}
    if "totalQuantity" in fields:
        fields["totalQuantity"] = Decimal(fields["totalQuantity"])
    app.request("placeOrder", ORDER_ID, contract(), order(**fields))
    app.until(lambda: bool(app.of("error", ORDER_ID)))
    assert app.codes(ORDER_ID) == [case.code]
    assert gateway.call(broker.orders) == ()


def _booked(gateway: GatewayThread, broker: SimBroker, order_id: int) -> Any:
    return gateway.call(lambda: next(o for o in broker.orders() if o.order_id == order_id))


def test_modify_by_order_id_changes_the_order_and_refuses_what_tws_refuses(
    session: Session,
) -> None:
    app, broker, gateway = session
    app.request("placeOrder", ORDER_ID, contract(), order(lmtPrice=50.0))  # rests at 100
    app.until(lambda: ("orderStatus", ORDER_ID, "Submitted") in _statuses(app))
    app.request("placeOrder", ORDER_ID, contract(), order(quantity=20, lmtPrice=51.5, tif="GTC"))
    app.until(lambda: _booked(gateway, broker, ORDER_ID).lmt_price == Decimal("51.5"))
    booked = _booked(gateway, broker, ORDER_ID)
    assert (booked.quantity, booked.tif, booked.status) == (Decimal(20), "GTC", "Submitted")
    limits = [a[2].lmtPrice for a in app.of("openOrder", ORDER_ID)]
    app.until(lambda: [a[2].lmtPrice for a in app.of("openOrder", ORDER_ID)][-1:] == [51.5])
    assert limits[0] == 50.0
    gateway.call(broker.fill, booked.perm_id, Decimal(15), Decimal("51.5"))  # partly filled
    refusals = [
        order("SELL", 20, lmtPrice=51.5),  # another side: 105
        order(quantity=10, lmtPrice=51.5),  # below the 15 filled: 134
        order(quantity=0, lmtPrice=51.5),  # terms a new order is refused for: 434
    ]
    for n, refused in enumerate(refusals, 1):
        app.request("placeOrder", ORDER_ID, contract(), refused)
        app.until(lambda n=n: len(app.codes(ORDER_ID)) == n)
    gateway.call(broker.fill, booked.perm_id, Decimal(5), Decimal("51.5"))  # now filled
    app.request("placeOrder", ORDER_ID, contract(), order(quantity=30, lmtPrice=52.0))
    app.until(lambda: len(app.codes(ORDER_ID)) == 4)
    assert app.codes(ORDER_ID) == [105, 134, 434, 104]
    booked = _booked(gateway, broker, ORDER_ID)
    assert (booked.quantity, booked.lmt_price, booked.status) == (
        Decimal(20), Decimal("51.5"), "Filled",
    )  # fmt: skip


def test_modify_of_a_cancelled_order_is_a_duplicate_id(session: Session) -> None:
    app, broker, gateway = session
    app.request("placeOrder", ORDER_ID, contract(), order(lmtPrice=50.0))
    app.until(lambda: ("orderStatus", ORDER_ID, "Submitted") in _statuses(app))
    app.request("cancelOrder", ORDER_ID)
    app.until(lambda: ("orderStatus", ORDER_ID, "Cancelled") in _statuses(app))
    app.request("placeOrder", ORDER_ID, contract(), order(lmtPrice=51.0))
    app.until(lambda: len(app.codes(ORDER_ID)) == 2)
    assert app.codes(ORDER_ID) == [202, 103]  # the cancel's 202, then the refused modify
    assert [(o.status, o.lmt_price) for o in gateway.call(broker.orders)] == [
        ("Cancelled", Decimal(50)),
    ]  # fmt: skip


def _statuses(app: App) -> list[tuple[str, int, str]]:
    return [("orderStatus", a[0], a[1]) for a in app.of("orderStatus")]


def _last_status(app: App, order_id: int) -> str | None:
    statuses = [a[1] for a in app.of("orderStatus", order_id)]
    return statuses[-1] if statuses else None


def test_a_bracket_waits_for_its_transmit_and_its_children_are_one_oca_group(
    session: Session,
) -> None:
    """parent (transmit False), take-profit (transmit False), stop (transmit True): nothing
    works before the stop arrives; the parent fills at the market; the take-profit's fill
    cancels the stop."""
    app, broker, gateway = session
    parent, take_profit, stop = ORDER_ID, ORDER_ID + 1, ORDER_ID + 2
    app.request("placeOrder", parent, contract(), order(lmtPrice=100.0, transmit=False))
    app.request("placeOrder", take_profit, contract(),
                order("SELL", lmtPrice=120.0, parentId=parent, transmit=False))  # fmt: skip
    app.until(lambda: _last_status(app, take_profit) == "PreSubmitted")
    assert gateway.call(broker.position, "AAPL") == 0  # the parent waits for the transmit
    app.request("placeOrder", stop, contract(),
                order("SELL", order_type="STP", auxPrice=80.0, parentId=parent))  # fmt: skip
    app.until(lambda: _last_status(app, parent) == "Filled")
    app.until(lambda: _last_status(app, take_profit) == "Submitted")
    assert [a[2].parentId for a in app.of("openOrder", stop)][-1] == parent
    gateway.call(broker.set_price, "AAPL", Decimal("121"))
    app.until(lambda: _last_status(app, stop) == "Cancelled")
    assert [_last_status(app, i) for i in (parent, take_profit, stop)] == [
        "Filled", "Filled", "Cancelled",
    ]  # fmt: skip
    assert gateway.call(broker.position, "AAPL") == 0


def test_an_oca_group_cancelling_a_parent_and_a_missing_parent(session: Session) -> None:
    """Two orders of one OCA group: one fills, the other is cancelled. A resting parent
    cancelled takes its child with it. A child of an order that does not exist: 10006."""
    app, broker, gateway = session
    first, second = ORDER_ID, ORDER_ID + 1
    app.request("placeOrder", first, contract(), order(lmtPrice=90.0, ocaGroup="g1"))
    app.request("placeOrder", second, contract(), order(lmtPrice=110.0, ocaGroup="g1"))
    app.until(lambda: _last_status(app, first) == "Cancelled")
    assert _last_status(app, second) == "Filled"
    parent, child = ORDER_ID + 2, ORDER_ID + 3
    app.request("placeOrder", parent, contract(), order(lmtPrice=90.0, transmit=False))
    app.request("placeOrder", child, contract(),
                order("SELL", lmtPrice=120.0, parentId=parent))  # fmt: skip
    app.until(lambda: _last_status(app, parent) == "Submitted")
    app.request("cancelOrder", parent)
    app.until(lambda: _last_status(app, child) == "Cancelled")
    assert _last_status(app, parent) == "Cancelled"
    orphan = ORDER_ID + 4
    app.request("placeOrder", orphan, contract(), order(lmtPrice=90.0, parentId=999))
    app.until(lambda: bool(app.of("error", orphan)))
    assert app.codes(orphan) == [10006]
    assert gateway.call(broker.position, "AAPL") == Decimal(10)


def test_the_official_10x_client_gets_the_reg_t_what_if_numbers(ibapi10: Ibapi10) -> None:
    """The 9.81 side and the model's numbers: test_e2e_what_if.py (docs/margins.md)."""
    broker = SimBroker(BrokerConfig(start_cash=Decimal(100_000), farm_status_messages=False))
    with (
        GatewayThread(broker) as gateway,
        official_app("ibapi-10", gateway.port, 41, ibapi10) as app,
    ):
        app.request("placeOrder", ORDER_ID, contract(),
                    order(quantity=100, order_type="MKT", whatIf=True))  # fmt: skip
        app.until(lambda: bool(app.of("openOrder", ORDER_ID)))
        ((_, _, echoed, state),) = app.of("openOrder", ORDER_ID)
    names = ("initMarginBefore", "initMarginChange", "initMarginAfter", "maintMarginAfter",
             "equityWithLoanBefore", "equityWithLoanAfter")  # fmt: skip
    assert echoed.whatIf
    assert tuple(float(getattr(state, n)) for n in names) == (0, 5000, 5000, 2500, 100_000, 99_999)
    assert (float(state.commissionAndFees), state.commissionAndFeesCurrency) == (1.0, "USD")
    assert broker.orders() == ()  # the gateway has stopped: read directly
