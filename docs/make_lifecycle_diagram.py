"""Draw the order lifecycle diagram (docs/lifecycle.md) from engine/lifecycle.py's table.

Run `python docs/make_lifecycle_diagram.py > docs/lifecycle.md`; a test fails when the
committed page differs from what the table draws.
"""

from __future__ import annotations

from collections import defaultdict

from ibguard.engine.lifecycle import TRANSITIONS


def render() -> str:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (status, kind), target in TRANSITIONS.items():
        if status is target and status.is_terminal:
            continue  # terminal states absorb: drawn once, in the note below
        edges[(status.value, target.value)].append(kind.value)
    lines = [
        "# Order lifecycle",
        "",
        "Generated from `engine/lifecycle.py` by `docs/make_lifecycle_diagram.py`; do not edit.",
        "Terminal states (FILLED, CANCELED, REJECTED) absorb every event except fills.",
        "",
        "```mermaid",
        "stateDiagram-v2",
        "    [*] --> NEW",
    ]
    for (source, target), kinds in sorted(edges.items()):
        lines.append(f"    {source} --> {target}: {', '.join(sorted(kinds))}")
    lines += ["```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")  # noqa: T201 - a script writes to stdout
