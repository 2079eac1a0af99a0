"""No import cycle inside ``filterproxy/``: every import counts, at module level and inside functions.

A cycle hidden behind a function-level import still ties two modules together (neither can be
understood, tested or moved alone), so the graph is read from the source with ``ast``
(see :mod:`tests.imports`), not from what happens to be imported at run time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.imports import cycles, graph

# Known cycles that other work of issue 16 removes (the lead empties this set after merging it):
#   dns.hotlane <-> dns.metrics   (the hot lane and its metrics, issue 16 point 1)
#   dns.server  <-> dns.tcp       (TcpListener takes the whole DnsServer, issue 16 point 1)
# Any other cycle, or one of these grown by another module, fails.
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset({
    frozenset({"filterproxy.dns.hotlane", "filterproxy.dns.metrics"}),
    frozenset({"filterproxy.dns.server", "filterproxy.dns.tcp"}),
})


def test_no_import_cycle_in_the_package() -> None:
    found = cycles(graph())
    unexpected = sorted(sorted(c) for c in found if c not in KNOWN_CYCLES)
    assert not unexpected, f"import cycles: {unexpected}"


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "filterproxy"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(("files", "expected"), [
    ({"__init__.py": "", "a.py": "from filterproxy import b\n", "b.py": "import filterproxy.a\n"},
     [{"filterproxy.a", "filterproxy.b"}]),
    # a function-level import is still an edge
    ({"__init__.py": "", "a.py": "from filterproxy.b import x\n",
      "b.py": "def f():\n    from filterproxy.a import y\n"},
     [{"filterproxy.a", "filterproxy.b"}]),
    # relative imports, and a cycle of three
    ({"__init__.py": "", "p/__init__.py": "", "p/a.py": "from .b import x\n", "p/b.py": "from . import c\n",
      "p/c.py": "from ..p.a import z\n"},
     [{"filterproxy.p.a", "filterproxy.p.b", "filterproxy.p.c"}]),
    # a package whose __init__ imports a module that imports the package back
    ({"__init__.py": "", "p/__init__.py": "from filterproxy.p.s import x\n", "p/s.py": "from filterproxy.p import q\n",
      "p/q.py": ""},
     [{"filterproxy.p", "filterproxy.p.s"}]),
    # TYPE_CHECKING imports count too
    ({"__init__.py": "",
      "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from filterproxy.b import B\n",
      "b.py": "from filterproxy.a import A\n"},
     [{"filterproxy.a", "filterproxy.b"}]),
    # a chain is not a cycle
    ({"__init__.py": "", "a.py": "from filterproxy.b import x\n", "b.py": "import json\nfrom filterproxy.c import y\n",
      "c.py": ""}, []),
])
def test_the_graph_finds_cycles(tmp_path: Path, files: dict[str, str], expected: list[set[str]]) -> None:
    root = _package(tmp_path, files)
    assert sorted(sorted(c) for c in cycles(graph(root))) == sorted(sorted(c) for c in expected)
