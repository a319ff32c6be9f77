"""What the broker libraries look like from the outside: their public names and the
method names that only an IB client has.

Star imports (`from ib_async import *`) are resolved against a library's `__all__`: read from
the installed library when it can be imported, else from the built-in list below (taken from
ib_async 2.x / ib_insync 0.9.86; the two agree on every name listed). `ibapi` has no useful
`__all__`, and nobody star-imports it, so the fallback is empty.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Final

__all__ = [
    "CLIENT_CLASSES",
    "DEFAULT_BROKER_LIBRARIES",
    "is_distinctive_client_method",
    "public_names",
]

DEFAULT_BROKER_LIBRARIES: Final = ("ib_async", "ib_insync", "ibapi")
# The broker clients: every method of these classes (and of their subclasses) talks to TWS.
# ib_async/ib_insync `IB` and its `Client` (`ib.client`), and ibapi's `EClient`.
CLIENT_CLASSES: Final = frozenset({"IB", "Client", "EClient"})

_FALLBACK_PUBLIC: Final = frozenset(
    [
        "IB",
        "Client",
        "Wrapper",
        "Contract",
        "Stock",
        "Option",
        "Future",
        "ContFuture",
        "Forex",
        "Index",
        "CFD",
        "Commodity",
        "Bond",
        "FuturesOption",
        "MutualFund",
        "Warrant",
        "Bag",
        "Crypto",
        "ComboLeg",
        "ContractDetails",
        "ContractDescription",
        "Order",
        "LimitOrder",
        "MarketOrder",
        "StopOrder",
        "StopLimitOrder",
        "BracketOrder",
        "OrderCondition",
        "PriceCondition",
        "TimeCondition",
        "MarginCondition",
        "ExecutionCondition",
        "VolumeCondition",
        "PercentChangeCondition",
        "OrderStatus",
        "OrderState",
        "Trade",
        "Fill",
        "Execution",
        "ExecutionFilter",
        "CommissionReport",
        "Position",
        "PortfolioItem",
        "AccountValue",
        "Ticker",
        "BarData",
        "BarDataList",
        "RealTimeBar",
        "RealTimeBarList",
        "ScannerSubscription",
        "TagValue",
        "TradeLogEntry",
        "Dividends",
        "NewsArticle",
        "NewsBulletin",
        "NewsProvider",
        "NewsTick",
        "PnL",
        "PnLSingle",
        "FlexReport",
        "FlexError",
        "IBC",
        "IBController",
        "Watchdog",
        "Event",
        "util",
        "RequestError",
        "ConnectionStats",
        "TickAttrib",
        "HistoricalTick",
        "HistoricalTickBidAsk",
        "HistoricalTickLast",
        "DOMLevel",
        "MktDepthData",
        "OptionComputation",
        "OptionChain",
        "SoftDollarTier",
    ]
)

# Names only an IB client has. Generic names (connect, sleep, run, positions, fills, trades,
# orders) are deliberately absent: on the team's own objects they mean something else.
_CLIENT_METHODS: Final = frozenset(
    [
        "placeOrder",
        "cancelOrder",
        "reqGlobalCancel",
        "openTrades",
        "openOrders",
        "whatIfOrder",
        "bracketOrder",
        "oneCancelsAll",
        "qualifyContracts",
        "cancelMktData",
        "cancelMktDepth",
        "cancelHistoricalData",
        "cancelRealTimeBars",
        "cancelTickByTickData",
        "cancelPnL",
        "cancelPnLSingle",
        "cancelAccountSummary",
        "cancelPositions",
        "exerciseOptions",
        "accountValues",
        "accountSummary",
        "managedAccounts",
        "reqIds",
        "calculateImpliedVolatility",
        "calculateOptionPrice",
    ]
)
_REQ_METHOD: Final = re.compile(r"^req[A-Z][A-Za-z]*$")


@cache
def public_names(library: str) -> frozenset[str]:
    """The names `from <library> import *` binds."""
    try:
        module = importlib.import_module(library)
    except Exception:  # any import failure means: fall back to the built-in list
        return _FALLBACK_PUBLIC if library in ("ib_async", "ib_insync") else frozenset()
    names = getattr(module, "__all__", None)
    if names is None:
        return frozenset(n for n in vars(module) if not n.startswith("_"))
    return frozenset(str(n) for n in names)


def is_distinctive_client_method(name: str) -> bool:
    """True for method names that, on an unknown object, almost surely mean an IB client."""
    base = name[: -len("Async")] if name.endswith("Async") else name
    return base in _CLIENT_METHODS or bool(_REQ_METHOD.match(base))
