"""SimBroker: one simulated IBKR account, scriptable per case, observed broker-side."""
