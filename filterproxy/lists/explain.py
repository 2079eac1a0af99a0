"""Explaining a verdict to a person: which list, which file and line, which rule.

The index stores no line numbers (they would cost 4 bytes a domain); the line is found on demand
by re-reading the one source that matched, which is fine for the CLI and the review.
"""

from __future__ import annotations

from typing import Any

from filterproxy.lists.formats import locate_entry
from filterproxy.lists.settings import SourceSettings
from filterproxy.model import Verdict


def source_line(source: SourceSettings | None, rule: str | None) -> tuple[str, int] | None:
    """``(file, line)`` of the entry ``rule`` in ``source``, or None when not found there."""
    if source is None or rule is None:
        return None
    return locate_entry(source, rule)


def explain(name: str, verdict: Verdict, line: tuple[str, int] | None) -> dict[str, Any]:
    """A flat record for text or JSON output."""
    return {
        "name": name,
        "host": verdict.host,
        "action": verdict.action.value,
        "reason": verdict.reason.value,
        "category": verdict.category.value if verdict.category else None,
        "group": verdict.group,
        "source": verdict.source,
        "rule": verdict.rule,
        "site": verdict.site,
        "file": line[0] if line else None,
        "line": line[1] if line else None,
        "also_listed": [c.value for c in verdict.extra_categories],
        "score": verdict.score,
        "evidence": list(verdict.evidence),
    }
