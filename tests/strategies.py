"""Hypothesis strategies shared by the test suite: broker-shaped values and event material.

One module, as in attrs' tests/strategies.py, so every property test draws quantities,
prices and execIds the same way.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

__all__ = ["exec_bases", "order_ids", "prices", "quantities"]

quantities = st.integers(min_value=1, max_value=60).map(Decimal)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2, allow_nan=False)
order_ids = st.sampled_from(["o0", "o1"])
exec_bases = st.integers(min_value=1, max_value=10**6).map(lambda n: f"0000e0d5.{n:08x}.01")
