"""ibguard.engine: the reference execution engine.

The core (`Engine`) is a deterministic state machine with no I/O: `handle(event)` updates
the book and returns the commands to send through the connector's port (`BrokerPort`).
State leaves it only as frozen snapshots.
"""

from ibguard.engine.commands import (
    CancelOrder as CancelOrder,
)
from ibguard.engine.commands import (
    Command as Command,
)
from ibguard.engine.commands import (
    PlaceOrder as PlaceOrder,
)
from ibguard.engine.commands import (
    RequestCompletedOrders as RequestCompletedOrders,
)
from ibguard.engine.commands import (
    RequestContractDetails as RequestContractDetails,
)
from ibguard.engine.commands import (
    RequestExecutions as RequestExecutions,
)
from ibguard.engine.commands import (
    RequestOpenOrders as RequestOpenOrders,
)
from ibguard.engine.commands import (
    RequestPositions as RequestPositions,
)
from ibguard.engine.commands import (
    RequestServerTime as RequestServerTime,
)
from ibguard.engine.commands import (
    RequestWhatIf as RequestWhatIf,
)
from ibguard.engine.config import EngineConfig as EngineConfig
from ibguard.engine.engine import Engine as Engine
from ibguard.engine.errors import (
    BrokerProtocolError as BrokerProtocolError,
)
from ibguard.engine.errors import (
    ConfigError as ConfigError,
)
from ibguard.engine.errors import (
    IbguardError as IbguardError,
)
from ibguard.engine.errors import (
    IllegalTransition as IllegalTransition,
)
from ibguard.engine.errors import (
    UsageError as UsageError,
)
from ibguard.engine.flatten import FlattenReport as FlattenReport
from ibguard.engine.health import HealthCheck as HealthCheck
from ibguard.engine.health import HealthReport as HealthReport
from ibguard.engine.logcodes import LogCode as LogCode
from ibguard.engine.model import (
    FillView as FillView,
)
from ibguard.engine.model import (
    Instrument as Instrument,
)
from ibguard.engine.model import (
    OrderRequest as OrderRequest,
)
from ibguard.engine.model import (
    OrderSnapshot as OrderSnapshot,
)
from ibguard.engine.model import (
    OrderType as OrderType,
)
from ibguard.engine.model import (
    PositionSnapshot as PositionSnapshot,
)
from ibguard.engine.model import (
    Side as Side,
)
from ibguard.engine.model import (
    Status as Status,
)
from ibguard.engine.model import (
    TimeInForce as TimeInForce,
)
from ibguard.engine.ports import AlertSink as AlertSink
from ibguard.engine.ports import BrokerPort as BrokerPort
from ibguard.engine.ports import Clock as Clock

__all__ = [
    "AlertSink",
    "BrokerPort",
    "BrokerProtocolError",
    "CancelOrder",
    "Clock",
    "Command",
    "ConfigError",
    "Engine",
    "EngineConfig",
    "FillView",
    "FlattenReport",
    "HealthCheck",
    "HealthReport",
    "IbguardError",
    "IllegalTransition",
    "Instrument",
    "LogCode",
    "OrderRequest",
    "OrderSnapshot",
    "OrderType",
    "PlaceOrder",
    "PositionSnapshot",
    "RequestCompletedOrders",
    "RequestContractDetails",
    "RequestExecutions",
    "RequestOpenOrders",
    "RequestPositions",
    "RequestServerTime",
    "RequestWhatIf",
    "Side",
    "Status",
    "TimeInForce",
    "UsageError",
]
