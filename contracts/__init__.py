"""ibguard.contracts"""

__all__: list[str] = []
