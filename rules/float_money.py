"""MONEY-01: float arithmetic on prices and quantities in engine code.

Money and quantities are `Decimal` end to end (DESIGN.md "Numbers"). Binary floats cannot
represent most prices (0.1 + 0.2 != 0.3), so sums drift, fills fail to match orders and VWAPs
come out wrong. Which names are money is judged by the words in the name (`limit_price`,
`avgFillPrice`, `qty`, `commission`, ...).
"""

from __future__ import annotations

from typing import Final

import libcst as cst
from ibguard.rules.base import Invalid, Rule, Target, Valid
from ibguard.rules.names import terminal_name, words

__all__ = ["FloatMoney"]

_MONEY_WORDS: Final = frozenset(
    {
        "price",
        "prices",
        "px",
        "qty",
        "quantity",
        "quantities",
        "amount",
        "notional",
        "pnl",
        "cost",
        "commission",
        "fee",
        "fees",
        "cash",
        "balance",
        "vwap",
        "shares",
        "lmt",
    }
)
_ARITHMETIC: Final = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide)


def _is_money(expr: cst.BaseExpression) -> bool:
    return bool(_MONEY_WORDS.intersection(words(terminal_name(expr))))


def _is_float_literal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.UnaryOperation):
        expr = expr.expression
    return isinstance(expr, cst.Float)


def _is_float_annotation(annotation: cst.BaseExpression) -> bool:
    return isinstance(annotation, cst.Name) and annotation.value == "float"


class FloatMoney(Rule):
    """Prices and quantities must be Decimal; a float in a money path is reported.

    Reports, in engine files: `Decimal(<float literal>)` and `Decimal(float(...))` (the
    Decimal inherits the float's error: `Decimal(0.1)` is 0.1000000000000000055...);
    `float(x)` of a money-named value; arithmetic mixing a float literal with a money-named
    value (`price * 1.01`, `qty / 2.0`); and money-named parameters, attributes and variables
    annotated `float`.
    """

    id = "MONEY-01"
    MESSAGE = "float in a money path; use Decimal for prices and quantities"
    TARGET = Target.ENGINE
    CANNOT = (
        "Floats that arrive through names that do not say money (`x = price; x * 1.5`), "
        "floats produced by libraries (numpy, pandas), and `int / int` true division."
    )

    VALID = (
        Valid("""
            from decimal import Decimal
            def bump(limit_price: Decimal) -> Decimal:
                return limit_price * Decimal("1.01")
            """),
        Valid("""
            ratio: float = 0.5
            timeout = 2.5 * 60
            qty = Decimal("0.1") + Decimal(3)
            """),
        Valid("""
            def score(fill_rate: float) -> float:
                return fill_rate * 100.0
            """),
    )

    INVALID = (
        Invalid("from decimal import Decimal\nprice = Decimal(0.1)\n", 2, 9),
        Invalid("import decimal\nqty = decimal.Decimal(float(raw))\n", 2, 7),
        Invalid("avg = float(order.avg_fill_price)\n", 1, 7),
        Invalid("stop = last_price * 0.98\n", 1, 8),
        Invalid("half = -0.5 * self.qty\n", 1, 8),
        Invalid("def place(symbol: str, limit_price: float) -> None: ...\n", 1, 24),
        Invalid("class Fill:\n    commission: float = 0.0\n", 2, 5),
    )

    def visit_Call(self, node: cst.Call) -> None:
        name = cst.helpers.get_full_name_for_node(node.func) or ""
        if name == "float" and node.args and _is_money(node.args[0].value):
            self.report(node, f"`float({terminal_name(node.args[0].value)})`")
            return
        value = self.resolver.value_of(node.func)
        if value is None or value.qualname != "decimal.Decimal" or not node.args:
            return
        argument = node.args[0].value
        is_float_call = (
            isinstance(argument, cst.Call)
            and cst.helpers.get_full_name_for_node(argument.func) == "float"
        )
        if _is_float_literal(argument) or is_float_call:
            self.report(node, "a Decimal built from a float keeps the float's error")

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, _ARITHMETIC):
            return
        for literal, other in ((node.left, node.right), (node.right, node.left)):
            if _is_float_literal(literal) and _is_money(other):
                self.report(node, f"float literal with `{terminal_name(other)}`")
                return

    def visit_Param(self, node: cst.Param) -> None:
        annotation = node.annotation
        if annotation and _is_float_annotation(annotation.annotation) and _is_money(node.name):
            self.report(node, f"`{node.name.value}: float`")

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if _is_float_annotation(node.annotation.annotation) and _is_money(node.target):
            self.report(node, f"`{terminal_name(node.target)}: float`")
