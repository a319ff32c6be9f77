"""Findings carry the same line and column as libcst's PositionProvider would give them."""

from __future__ import annotations

import libcst as cst
import pytest
from ibguard.rules.positions import positions_of
from ibguard.rules.traversal import descendants
from libcst.metadata import PositionProvider

SOURCES = {
    "plain": "import time\nnow = time.time()\n",
    "crlf": "import time\r\nx = 1\r\nnow = time.time()\r\n",
    "cr only": "import time\rx = 1\rnow = time.time()\r",
    "header comments": "# a\n\n# b\nimport time\n\n\n# c\nnow = time.time()\n",
    "decorators": "@a\n# between\n@b(\n    1,\n)\ndef f():\n    return g(h())\n",
    "several on one line": "a = f(); b = g(1)\nc = h()\n",
    "parenthesized start": "(\n    a\n).b = f(\n    1)\n",
    "nested": "class A:\n  class B:\n    def m(self):\n      if x:\n        y(z())\n",
    "strings": 's = """\nx\n"""\nt = f("a\\nb")\nu = f(\n    """\n    """)\n',
    "continuation": "x = 1 + \\\n    f(2)\ny = g()\n",
}


@pytest.mark.parametrize("name", SOURCES)
def test_positions_of_reported_nodes_match_libcst(name: str) -> None:
    source = SOURCES[name]
    wrapper = cst.MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    expected = wrapper.resolve(PositionProvider)
    nodes = [n for n in descendants(wrapper.module) if isinstance(n, (cst.Call, cst.Name))]
    assert nodes
    for node in nodes:  # one at a time, as a file with one finding asks
        assert positions_of(wrapper, source, [node]) == {node: expected[node]}
    assert positions_of(wrapper, source, nodes) == {node: expected[node] for node in nodes}
