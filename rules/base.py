"""The rule contract: one class per rule, carrying its id, message and its own test samples.

Invariants, enforced when a subclass is defined (so a malformed rule fails at import):
the id looks like `WORD-NN`, the class has a docstring, a MESSAGE, a ROLE, and at least one
VALID and one INVALID sample; every INVALID sample pins the line and column it expects.
A rule is a libcst batchable visitor: all rules of a file share one traversal.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar, Final

import libcst as cst
from ibguard.errors import UsageError
from ibguard.rules.project_index import ProjectIndex
from ibguard.rules.resolution import ModuleResolver

__all__ = ["FileContext", "Invalid", "Rule", "RuleReport", "Target", "Valid"]

RULE_ID: Final = re.compile(r"^[A-Z][A-Z0-9]*-\d{2}$")


class Target(str, Enum):
    """Which side of the boundary a rule checks."""

    ENGINE = "engine"
    CONNECTOR = "connector"


@dataclass(frozen=True, slots=True)
class Valid:
    """Code the rule must accept. `project` maps other module names to their source."""

    code: str
    project: Mapping[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")


@dataclass(frozen=True, slots=True)
class Invalid:
    """Code the rule must report, first at `line`:`column` (1-based), `count` times in all."""

    code: str
    line: int
    column: int
    count: int = 1
    project: Mapping[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")


@dataclass(frozen=True, slots=True)
class RuleReport:
    """What a rule saw, before the runner attaches a path (line and column are 1-based)."""

    rule: str
    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class FileContext:
    """Everything a rule may know about the file it checks."""

    module_name: str
    index: ProjectIndex
    resolver: ModuleResolver


class Rule(cst.BatchableCSTVisitor):
    """Base of every rule. Subclasses set the class attributes and call `report`."""

    id: ClassVar[str]
    MESSAGE: ClassVar[str]
    TARGET: ClassVar[Target]
    VALID: ClassVar[Sequence[Valid]]
    INVALID: ClassVar[Sequence[Invalid]]
    CANNOT: ClassVar[str] = ""  # what the rule cannot see; goes into the docs

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        problems = []
        rule_id = getattr(cls, "id", "")
        if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
            problems.append(f"id {rule_id!r} is not of the form WORD-NN")
        if not (cls.__doc__ or "").strip():
            problems.append("no docstring")
        if not getattr(cls, "MESSAGE", ""):
            problems.append("no MESSAGE")
        if not isinstance(getattr(cls, "TARGET", None), Target):
            problems.append("no TARGET")
        if not getattr(cls, "VALID", ()):
            problems.append("no VALID sample")
        if not getattr(cls, "INVALID", ()):
            problems.append("no INVALID sample")
        elif not all(isinstance(sample, Invalid) for sample in cls.INVALID):
            problems.append("INVALID samples must be Invalid(...) with line and column")
        if problems:
            raise UsageError(f"rule class {cls.__name__}: " + "; ".join(problems))

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context
        self.resolver = context.resolver
        # (node, message): positions are computed only for files that have findings.
        self.found: list[tuple[cst.CSTNode, str]] = []

    def report(self, node: cst.CSTNode, detail: str = "") -> None:
        message = f"{self.MESSAGE}: {detail}" if detail else self.MESSAGE
        self.found.append((node, message))
