"""From category scores to a site finding: the one place a scanned page becomes a decision.

A page yields a :class:`SiteFinding` when some category scores at or over the lowest threshold
any group acts on (block or log), with at least ``MIN_DISTINCT`` different positive phrases.
The finding is recorded in the engine's :class:`SiteVerdicts`, and each group's verdict then comes from
:meth:`SiteVerdicts.decide` with that group's own action and threshold: the proxy, the DNS path
and the background categoriser all go through the same two steps.
"""

from __future__ import annotations

from collections.abc import Mapping

from filterproxy.classify.policy import Policy
from filterproxy.classify.siteverdicts import SiteFinding
from filterproxy.content.scorer import MIN_DISTINCT, CategoryScore, Scanner
from filterproxy.model import Category


def finding_for(scores: Mapping[Category, CategoryScore], policy: Policy, scanner: Scanner) -> SiteFinding | None:
    """The category that weighs most over its threshold (relative to it), or None when none is over."""
    best: tuple[float, CategoryScore, float] | None = None
    for category, score in scores.items():
        floor = policy.content_floor(category)
        if floor is None or score.points < floor or score.distinct < MIN_DISTINCT:
            continue
        ratio = score.points / floor
        if best is None or ratio > best[0]:
            best = (ratio, score, floor)
    if best is None:
        return None
    _, score, floor = best
    return SiteFinding(
        category=score.category,
        points=score.points,
        score=round(score.score, 3),
        evidence=tuple(text for text, _ in score.evidence),
        source=scanner.source(score.category),
        summary=score.summary(floor),
    )
