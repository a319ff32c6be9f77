"""Reconciliation as a small state machine: open orders, completed orders, executions.

The broker wins. An order of ours seen in any answer takes the broker's state; an order
the broker acknowledged once but no longer knows is CANCELED (FAIL-04); an order it never
acknowledged stays NEW for the strategy to decide (CONN-01). Orders sent after the run
began are left alone: the broker's answers may predate them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

__all__ = ["ReconcilePhase", "ReconcileRun"]


class ReconcilePhase(str, Enum):
    OPEN_ORDERS = "OPEN_ORDERS"
    COMPLETED_ORDERS = "COMPLETED_ORDERS"
    EXECUTIONS = "EXECUTIONS"


@dataclass(slots=True)
class ReconcileRun:
    reason: str
    epoch: int
    phase: ReconcilePhase = ReconcilePhase.OPEN_ORDERS
    seen: set[str] = field(default_factory=set)
    again: bool = False  # another reason to reconcile arrived while this run was going
