"""A throwaway consumer repository: a small ib_async trading project, as a team has it.

`ENGINE_VIOLATION` is an engine module that calls the broker library directly: BOUNDARY-02
for the rules and CONTRACT-BROKER-BOUNDARY for the contracts.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from ibguard.contracts.templates import ibguard_template, importlinter_template

PROJECT: Mapping[str, str] = {
    "trader/__init__.py": "",
    "trader/engine/__init__.py": "",
    "trader/engine/sizing.py": (
        "from decimal import Decimal\n\n\n"
        "def order_size(cash: Decimal, price: Decimal) -> Decimal:\n"
        "    return (cash / price).quantize(Decimal(1))\n"
    ),
    "trader/engine/connector/__init__.py": "",
    "trader/engine/connector/ib.py": (
        "from ib_async import IB, LimitOrder, Stock\n\n\n"
        "def buy(ib: IB, symbol: str, quantity: int, price: float) -> None:\n"
        '    ib.placeOrder(Stock(symbol, "SMART", "USD"), LimitOrder("BUY", quantity, price))\n'
    ),
}

ENGINE_VIOLATION: Mapping[str, str] = {
    "trader/engine/panic.py": (
        "import ib_async\n\n\ndef panic(ib: ib_async.IB) -> None:\n    ib.reqGlobalCancel()\n"
    ),
}

CONFIG = (
    ibguard_template(["trader/engine/**/*.py"], ["trader/engine/connector/**/*.py"])
    + "\n"
    + importlinter_template("trader", engine="trader.engine", connector="trader.engine.connector")
)


def write(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=check,
    )
