"""SimBroker: one simulated IBKR account, scriptable per case, observed broker-side.

Fronts: `SimConnector` (in-process `BrokerPort`) and the fake TWS gateway (kit.gateway),
both talking to a SimBroker through `ApiSession`s and the IB-shaped messages of
`ibguard.kit.sim.messages`.
"""

from ibguard.kit.sim.book import SimOrder
from ibguard.kit.sim.broker import BrokerConfig, SimBroker, WhatIfAnswer
from ibguard.kit.sim.clock import LocalClock, VirtualClock
from ibguard.kit.sim.contracts import HaltMode
from ibguard.kit.sim.inprocess import NOT_CONNECTED, SimConnector
from ibguard.kit.sim.observe import RequestLog, RequestRecord
from ibguard.kit.sim.script import (
    DropConnection,
    FillPlan,
    LateFillOnCancel,
    PacingViolation,
    RefuseCancel,
    RejectOrder,
    Rule,
    Script,
)
from ibguard.kit.sim.session import ApiSession, Listener

__all__ = [
    "NOT_CONNECTED",
    "ApiSession",
    "BrokerConfig",
    "DropConnection",
    "FillPlan",
    "HaltMode",
    "LateFillOnCancel",
    "Listener",
    "LocalClock",
    "PacingViolation",
    "RefuseCancel",
    "RejectOrder",
    "RequestLog",
    "RequestRecord",
    "Rule",
    "Script",
    "SimBroker",
    "SimConnector",
    "SimOrder",
    "VirtualClock",
    "WhatIfAnswer",
]
