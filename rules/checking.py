"""Checking one source text with a set of rules: parse once, resolve once, visit once.

The walks are `traversal.walk`, not libcst's own (which rebuilds every node it passes), and
positions are computed only when a rule reported something.

This is the unit of work the runner hands to worker processes, so it takes and returns only
picklable values. A syntax error propagates as `libcst.ParserSyntaxError`; the runner turns it
into a PARSE-ERROR finding.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from ibguard.rules.base import FileContext, Rule, RuleReport
from ibguard.rules.positions import positions_of
from ibguard.rules.project_index import ProjectIndex
from ibguard.rules.resolution import ModuleResolver
from ibguard.rules.traversal import walk

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
    walk(wrapper.module, visitors)
    found = [(visitor.id, node, message) for visitor in visitors for node, message in visitor.found]
    if not found:
        return []
    # Positions only for a file with findings (a full position pass costs more than the parse).
    positions = positions_of(wrapper, source, [node for _, node, _ in found])
    reports = [
        RuleReport(rule_id, positions[node].start.line, positions[node].start.column + 1, message)
        for rule_id, node, message in found
    ]
    return sorted(reports, key=lambda r: (r.line, r.column, r.rule))
