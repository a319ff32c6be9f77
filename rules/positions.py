"""Line and column of the nodes a rule reported, computed only for the statements holding them.

libcst's `PositionProvider` regenerates the whole module's code and records a range for every
node: several times the cost of the parse. Findings are rare, so positions are computed only
for files that have some, and only for the top-level statements that hold a reported node:
the stdlib `ast` (a C parser, cheap) says on which line each top-level statement starts, and
libcst's own code generation (so the same positions, by construction) runs from there over
that statement alone, with a cheaper line counter. When `ast` and libcst do not agree on the
statements (newer syntax than this Python), or libcst's internals ever change shape, the whole
module goes through `PositionProvider` itself.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Collection
from typing import cast

import libcst as cst
from ibguard.rules.traversal import descendants
from libcst.metadata import CodeRange, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

__all__ = ["positions_of"]


class _State(PositionProvidingCodegenState):
    def add_token(self, value: str) -> None:
        # No code string is needed, only where it would end; `\r\n`, `\r` and `\n` all end a line.
        breaks = value.count("\n") + value.count("\r") - value.count("\r\n")
        if breaks:
            self.line += breaks
            self.column = len(value) - max(value.rfind("\n"), value.rfind("\r")) - 1
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)


def _statement_lines(source: str, module: cst.Module) -> list[int] | None:
    """The line each of `module.body` starts on (its leading comments and blank lines
    included), from `ast`; None if the two parsers do not line up."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    statements = iter(tree.body)
    lines = []
    for statement in module.body:
        count = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        group = [next(statements, None) for _ in range(count)]
        first = group[0]
        if first is None or group[-1] is None:
            return None
        # A statement starts at its first token; a decorated one at its first decorator.
        decorators = getattr(first, "decorator_list", [])
        start = min(d.lineno for d in decorators) if decorators else first.lineno
        lines.append(start - len(statement.leading_lines))
    if next(statements, None) is not None:
        return None
    return lines


def positions_of(
    wrapper: cst.MetadataWrapper, source: str, nodes: Collection[cst.CSTNode]
) -> dict[cst.CSTNode, CodeRange]:
    """Node -> its range (as `PositionProvider` gives it) for each of `nodes`."""
    module = wrapper.module
    wanted = {id(node) for node in nodes}
    lines = _statement_lines(source, module)
    provider = PositionProvider()
    try:
        if lines is None:
            raise LookupError
        for statement, line in zip(module.body, lines, strict=True):
            if not wanted.intersection(id(node) for node in descendants(statement)):
                continue
            state = _State(
                default_indent=module.default_indent,
                default_newline=module.default_newline,
                provider=provider,
            )
            state.line = line
            statement._codegen(state)
        # Filled by libcst's code generation with CodeRanges only (LazyValue is not used here).
        computed = cast("dict[cst.CSTNode, CodeRange]", provider._computed)
        return {node: computed[node] for node in nodes}
    except (AttributeError, TypeError, KeyError, LookupError, ValueError):
        resolved = wrapper.resolve(PositionProvider)
        return {node: resolved[node] for node in nodes}
