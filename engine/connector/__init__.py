"""ibguard.engine.connector: the only code that imports the broker library.

`IBConnector` is the engine's BrokerPort over TWS / IB Gateway (ib_async, or ib_insync);
the library itself is imported lazily, when a connector is built.
"""

from ibguard.engine.connector.ib import IBConnector, SessionState
from ibguard.engine.connector.reconnect import Backoff

__all__ = ["Backoff", "IBConnector", "SessionState"]
