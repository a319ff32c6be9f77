"""Checking one source text with a set of rules: parse once, resolve once, visit once.

This is the unit of work the runner hands to worker processes, so it takes and returns only
picklable values. A syntax error propagates as `libcst.ParserSyntaxError`; the runner turns it
into a PARSE-ERROR finding.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from ibguard.rules.base import FileContext, Rule, RuleReport
from ibguard.rules.project_index import ProjectIndex
from ibguard.rules.resolution import ModuleResolver

__all__ = ["check_source"]


def check_source(
    source: str,
    *,
    module_name: str,
    is_package: bool,
    index: ProjectIndex,
    rules: Sequence[type[Rule]],
) -> list[RuleReport]:
    """Every report of `rules` on `source`, in source order."""
    if not rules:
        return []
    wrapper = cst.MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    resolver = ModuleResolver.build(wrapper, module_name, is_package, index)
    context = FileContext(module_name=module_name, index=index, resolver=resolver)
    visitors = [rule(context) for rule in rules]
    wrapper.visit_batched(visitors)
    reports = [report for visitor in visitors for report in visitor.reports]
    return sorted(reports, key=lambda r: (r.line, r.column, r.rule))
