"""ibguard.kit: the simulated broker, the fake TWS gateway, the matrix, the pytest plugin
and the command line."""

__all__: list[str] = []
