"""The core is pure: ``filterproxy/classify/`` imports nothing outward and does no I/O.

Read from the source with ``ast`` (module-level, function-level and ``TYPE_CHECKING`` imports alike).
Inside the package, classify may import only :data:`ALLOWED`: the shared data types
(``filterproxy.model``), the error tree, the bounded map of its caches (``filterproxy.bounded``) and
the two leaves its pydantic policy section is made of (``config.section``, the ``Section`` base;
``config.types``, the ``Network`` field type); those must stay leaves. Never lists, config loading,
identity, files, categorise or an adapter: what comes from disk (the index, local lists, public
suffix rules, the hostname model) is handed in by the wiring.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.imports import PACKAGE, imported_names, module_name

CLASSIFY = PACKAGE / "classify"
ALLOWED = frozenset({
    "filterproxy.model",
    "filterproxy.errors",
    "filterproxy.bounded",
    "filterproxy.config.section",
    "filterproxy.config.types",
})
# what the standard library and third parties may give the core: data structures, time, text
THIRD_PARTY_ALLOWED = frozenset({
    "__future__", "array", "collections", "dataclasses", "datetime", "enum", "functools", "ipaddress",
    "itertools", "math", "operator", "re", "threading", "time", "typing", "zoneinfo", "idna", "pydantic",
})
IO_CALLS = frozenset({"open", "read_text", "read_bytes", "write_text", "write_bytes", "mkdir", "unlink",
                      "iterdir", "glob", "rglob", "stat", "exists", "touch", "rename", "replace_file", "files"})
IO_NAMES = frozenset({"Path", "PurePath", "PosixPath", "resources", "pkgutil", "os", "io", "mmap", "socket"})


def problems(path: Path, name: str, *, inside: str = "filterproxy.classify") -> Iterator[str]:
    """``file:line: what`` for every outward import and every I/O call in one module."""
    is_package = path.name == "__init__.py"
    for target, line in sorted(set(imported_names(path, name, is_package)), key=lambda t: (t[1], t[0])):
        top = target.split(".")[0]
        if top == "filterproxy":
            if not (target == inside or target.startswith(inside + ".") or _allowed(target)):
                yield f"{path}:{line}: imports {target}"
        elif top not in THIRD_PARTY_ALLOWED:
            yield f"{path}:{line}: imports {target}"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called in IO_CALLS:
                yield f"{path}:{node.lineno}: calls {called}()"
        elif isinstance(node, ast.Name) and node.id in IO_NAMES:
            yield f"{path}:{node.lineno}: uses {node.id}"


def _allowed(target: str) -> bool:
    return any(target == a or target.startswith(a + ".") for a in ALLOWED)


def test_classify_imports_nothing_outward_and_does_no_io() -> None:
    found = [p for path in sorted(CLASSIFY.rglob("*.py")) for p in problems(path, module_name(path))]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("allowed", sorted(ALLOWED))
def test_what_classify_may_import_stays_a_pure_leaf(allowed: str) -> None:
    path = PACKAGE.parent.joinpath(*allowed.split(".")).with_suffix(".py")
    found = [p for p in problems(path, allowed, inside=allowed)
             if not any(p.endswith(f": imports {a}") or f": imports {a}." in p for a in ALLOWED)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("source", "expected"), [
    ("from filterproxy.lists.loader import load_index\n", "imports filterproxy.lists.loader"),
    ("def f():\n    from filterproxy.config.loader import load_config\n", "imports filterproxy.config.loader"),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from filterproxy.categorise.judge import J\n",
     "imports filterproxy.categorise.judge"),
    ("from ..identity import lookup\n", "imports filterproxy.identity"),
    ("import tldextract\n", "imports tldextract"),
    ("from importlib import resources\n", "imports importlib"),
    ("def f(p):\n    return open(p).read()\n", "calls open()"),
    ("def f(p):\n    return p.read_text()\n", "calls read_text()"),
    ("from pathlib import Path\n", "imports pathlib"),
    ("def f():\n    return Path\n", "uses Path"),
])
def test_the_check_finds_what_it_looks_for(tmp_path: Path, source: str, expected: str) -> None:
    path = tmp_path / "filterproxy" / "classify" / "bad.py"
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    found = list(problems(path, "filterproxy.classify.bad"))
    assert any(expected in p for p in found), found


def test_the_check_passes_pure_code(tmp_path: Path) -> None:
    path = tmp_path / "filterproxy" / "classify" / "good.py"
    path.parent.mkdir(parents=True)
    path.write_text("from __future__ import annotations\nimport ipaddress\nfrom filterproxy.model import Verdict\n"
                    "from filterproxy.classify.index import Index\nfrom . import table\n", encoding="utf-8")
    assert list(problems(path, "filterproxy.classify.good")) == []
