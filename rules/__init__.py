"""ibguard.rules"""

__all__: list[str] = []
