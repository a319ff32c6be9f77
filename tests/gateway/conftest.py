"""Fixtures shared by the gateway tests."""

from .ibapi10 import ibapi10

__all__ = ["ibapi10"]
