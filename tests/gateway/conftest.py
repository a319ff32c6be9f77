"""Fixtures shared by the gateway tests."""

from .ibapi10 import ibapi10
from .official_paper import official_paper

__all__ = ["ibapi10", "official_paper"]
