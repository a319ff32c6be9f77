"""Every generated document of this repository, and the one command that regenerates them.

`python -m ibguard.kit.docs` (in a checkout) rewrites each from its source of truth;
`python -m ibguard.kit.docs --check` rewrites nothing, lists the stale ones and exits 1.
The documents: `docs/lifecycle.md` (the order lifecycle diagram, drawn from
`engine/lifecycle.py`'s table), `docs/session.md` (the broker session's, from
`engine/session.py`), `docs/rules.md` (from the rule classes), `docs/cases.md` and
the README's 30-case tables between its `cases:begin`/`cases:end` markers (from the case
catalog). Each staleness test compares a file with its render here and names this command.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ibguard.engine.lifecycle import TRANSITIONS
from ibguard.engine.session import SESSION_TRANSITIONS
from ibguard.errors import UsageError
from ibguard.kit.matrix.docs_page import render_cases_page
from ibguard.rules.docs import render as render_rules_page

__all__ = ["COMMAND", "GENERATED", "Generated", "main", "stale"]

COMMAND: Final = "python -m ibguard.kit.docs"
_CASES_BLOCK: Final = re.compile(r"(<!-- cases:begin[^\n]*-->\n)(.*?)(<!-- cases:end -->)", re.S)


def lifecycle_page(_current: str = "") -> str:
    """The order lifecycle as a mermaid state diagram, one edge per (from, to) pair."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (status, kind), target in TRANSITIONS.items():
        if status is target and status.is_terminal:
            continue  # terminal states absorb: drawn once, in the note below
        edges[(status.value, target.value)].append(kind.value)
    lines = [
        "# Order lifecycle",
        "",
        f"Generated from `engine/lifecycle.py` by `{COMMAND}`; do not edit.",
        "Terminal states (FILLED, CANCELED, REJECTED) absorb every event except fills.",
        "",
        "```mermaid",
        "stateDiagram-v2",
        "    [*] --> NEW",
    ]
    for (before, after), kinds in sorted(edges.items()):
        lines.append(f"    {before} --> {after}: {', '.join(sorted(kinds))}")
    lines += ["```", ""]
    return "\n".join(lines)


def session_page(_current: str = "") -> str:
    """The engine's broker session as a mermaid state diagram, one edge per (from, to)."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (state, move), target in SESSION_TRANSITIONS.items():
        if state is not target:
            edges[(state.value, target.value)].append(move.value)
    lines = [
        "# Broker session",
        "",
        f"Generated from `engine/session.py` by `{COMMAND}`; do not edit.",
        "Moves not drawn leave the state as it is; halting a halted session is illegal.",
        "",
        "```mermaid",
        "stateDiagram-v2",
        "    [*] --> DISCONNECTED",
    ]
    for (before, after), moves in sorted(edges.items()):
        lines.append(f"    {before} --> {after}: {', '.join(sorted(moves))}")
    lines += ["```", ""]
    return "\n".join(lines)


def readme_case_tables() -> str:
    """The category tables of docs/cases.md, one heading level down, without its title."""
    page = render_cases_page()
    sections = page[page.index("\n## ") + 1 :]
    return re.sub(r"^## ", "### ", sections, flags=re.M)


def readme_cases_block(readme: str) -> str:
    """What stands between the README's case markers now."""
    match = _CASES_BLOCK.search(readme)
    if match is None:
        raise UsageError("README.md has no cases:begin/cases:end markers")
    return match.group(2)


def readme_with_case_tables(readme: str) -> str:
    readme_cases_block(readme)  # the markers must be there
    tables = readme_case_tables()
    return _CASES_BLOCK.sub(lambda m: m.group(1) + "\n" + tables + "\n" + m.group(3), readme)


@dataclass(frozen=True, slots=True)
class Generated:
    """One generated file: its path in the checkout, and its text given the current text
    (a whole page ignores it; the README keeps everything outside its markers)."""

    path: str
    render: Callable[[str], str]


GENERATED: Final = (
    Generated("docs/lifecycle.md", lifecycle_page),
    Generated("docs/session.md", session_page),
    Generated("docs/rules.md", lambda _current: render_rules_page()),
    Generated("docs/cases.md", lambda _current: render_cases_page()),
    Generated("README.md", readme_with_case_tables),
)


def stale(root: Path) -> list[str]:
    """The generated files under `root` whose text differs from their render."""
    found = []
    for doc in GENERATED:
        current = (root / doc.path).read_text(encoding="utf-8")
        if current != doc.render(current):
            found.append(doc.path)
    return found


def _write(root: Path) -> list[str]:
    written = []
    for doc in GENERATED:
        path = root / doc.path
        current = path.read_text(encoding="utf-8")
        text = doc.render(current)
        if text != current:
            path.write_text(text, encoding="utf-8")
            written.append(doc.path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the checkout (default: .)")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a document is stale"
    )
    args = parser.parse_args(argv)
    missing = [doc.path for doc in GENERATED if not (args.root / doc.path).is_file()]
    if missing:
        print(  # noqa: T201 - this module is a command
            f"error: {args.root} is not an ibguard checkout (no {', '.join(missing)}); "
            "run this from the repository root or pass --root",
            file=sys.stderr,
        )
        return 2
    try:
        changed = stale(args.root) if args.check else _write(args.root)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return 2
    verb = "stale" if args.check else "regenerated"
    for path in changed:
        print(f"{verb}: {path}")  # noqa: T201
    if not changed:
        print(f"all {len(GENERATED)} generated documents are current")  # noqa: T201
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
