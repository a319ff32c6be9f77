"""Throwaway projects for the `ibguard check` tests: file maps, written into tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

CONFIG = """
[tool.ibguard]
engine = ["app/engine/**/*.py"]
connector = ["app/connector/**/*.py"]
state-types = ["app.model.OrderState"]
port-types = ["app.ports.BrokerPort"]
"""

CLEAN: Mapping[str, str] = {
    "pyproject.toml": CONFIG,
    "app/__init__.py": "",
    "app/model.py": "class OrderState: ...\n",
    "app/ports.py": "class BrokerPort:\n    def send(self, command): ...\n",
    "app/engine/__init__.py": "",
    "app/engine/strategy.py": """
        from decimal import Decimal
        from app.ports import BrokerPort

        def buy(port: BrokerPort, price: Decimal) -> None:
            port.send(("buy", price * Decimal("1.01")))
        """,
    "app/connector/__init__.py": "from ib_async import IB\n",
    "app/connector/adapter.py": """
        from ib_async import IB, LimitOrder
        from app.ports import BrokerPort

        class IbPort(BrokerPort):
            def __init__(self, ib: IB) -> None:
                self.ib = ib
            def send(self, command) -> None:
                self.ib.placeOrder(command[1], LimitOrder("BUY", 1, command[2]))
        """,
}

VIOLATIONS: Mapping[str, str] = {
    **CLEAN,
    "app/engine/bypass.py": """
        import datetime
        from app.connector import IB

        def halt(ib: IB, price: float) -> None:
            ib.reqGlobalCancel()
            stamp = datetime.datetime.now()
        """,
    "app/engine/broken.py": "def broken(:\n",
    "app/engine/quiet.py": """
        import ib_insync  # ibguard: ignore[BOUNDARY-02]
        """,
    "app/connector/mutate.py": """
        from app.model import OrderState

        def on_fill(state: OrderState, qty) -> None:
            state.filled += qty
        """,
}


def write_project(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def corpus(count: int) -> dict[str, str]:
    """CLEAN plus `count` modules, a mix of clean, violating and unparsable ones (both sides)."""
    files = dict(CLEAN)
    for i in range(count):
        kind = i % 4
        if kind == 0:
            files[f"app/engine/clean_{i}.py"] = f"def step_{i}(x: int) -> int:\n    return {i}\n"
        elif kind == 1:
            files[f"app/engine/bypass_{i}.py"] = VIOLATIONS["app/engine/bypass.py"]
        elif kind == 2:
            files[f"app/engine/broken_{i}.py"] = "def broken(:\n" * (1 + i % 3)
        else:
            files[f"app/connector/mutate_{i}.py"] = VIOLATIONS["app/connector/mutate.py"]
    return files
