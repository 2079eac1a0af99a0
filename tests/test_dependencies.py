"""Every third-party module the package imports is one of its own runtime dependencies.

A module that only a dev extra (or a dependency of a dependency) provides works in the editable
test venv and breaks ``pip install .``: httpx did exactly that once.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def imported_modules() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (REPO / "filterproxy").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "filterproxy":
                    found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


def declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[\s<>=!;\[~]", req, maxsplit=1)[0] for req in project["dependencies"]}
    return {_canonical(name) for name in names}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_module_is_a_declared_runtime_dependency() -> None:
    providers = packages_distributions()
    runtime = declared()
    undeclared = {}
    for module, files in imported_modules().items():
        distributions = {_canonical(d) for d in providers.get(module, [])}
        assert distributions, f"{module} (imported by {sorted(files)}) is not installed at all"
        if not distributions & runtime:
            undeclared[module] = sorted(files)
    assert not undeclared, f"imported but not in [project].dependencies: {undeclared}"

