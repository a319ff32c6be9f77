"""The rule set: every rule class, and a version that changes whenever any rule changes.

The version keys the cache: it hashes the source of every module of `ibguard.rules`, the
committed broker models and the installed broker library versions, so a finding cached by an
older rule set (or made with another version of the broker's library) is never reused.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Final

from ibguard.rules.base import Rule, Target
from ibguard.rules.boundary_01 import ConnectorMutatesEngineState
from ibguard.rules.boundary_02 import EngineBypassesConnector
from ibguard.rules.broker_api import DEFAULT_BROKER_LIBRARIES
from ibguard.rules.broker_model import installed_version
from ibguard.rules.float_money import FloatMoney
from ibguard.rules.wall_clock import EngineReadsWallClock

__all__ = ["RULES", "rules_for", "ruleset_version"]

RULES: Final[tuple[type[Rule], ...]] = (
    ConnectorMutatesEngineState,
    EngineBypassesConnector,
    EngineReadsWallClock,
    FloatMoney,
)


def rules_for(target: Target) -> tuple[type[Rule], ...]:
    return tuple(rule for rule in RULES if rule.TARGET is target)


@cache
def ruleset_version() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted([*here.glob("*.py"), *here.glob("*.json")]):  # json: broker models
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    # What BOUNDARY-02 knows of a broker library depends on the installed version.
    for library in DEFAULT_BROKER_LIBRARIES:
        digest.update(f"{library}={installed_version(library)}".encode())
    return digest.hexdigest()[:16]
