"""Measuring a model on a split, and choosing each category's threshold from the validation split.

Scores come from :meth:`HostModel.score`, the exact code that runs at decision time, so what the
manifest reports is what a school gets. A name counts as *blocked* when its category's score
reaches the threshold and no protective word or vetted suffix caps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from filterproxy.categorise.scorer import HostModel, Score
from filterproxy.categorise.training.dataset import Example
from filterproxy.categorise.training.sources import BENIGN

GRID = (*(round(0.5 + 0.01 * i, 2) for i in range(50)), 0.995, 0.999)  # scorer.REPORTED is the lowest
MAX_BENIGN_SHARE = 0.001  # at most 1 benign name in 1,000 per category (UT1's benign lists hold some noise) ...
MAX_CURATED = 1  # ... and at most one of the hand-written benign lists (checked by hand: bet.com, adultswim.com
# are such names; a name alone cannot tell them from the sites they sound like)
BLOCK_PRECISION = 0.97  # precision a category needs on validation to be blocked by default
MIN_SUPPORT = 30  # fewer validation names than this and the default stays log


@dataclass(frozen=True, slots=True)
class Scored:
    label: str
    score: Score
    curated: bool = False


def score_all(model: HostModel, split: Sequence[Example]) -> list[Scored]:
    return [Scored(e.label, model.judged(e.name), e.curated) for e in split]


def _hits(scored: Sequence[Scored], category: str, threshold: float) -> tuple[int, int, int, int]:
    """(true positives, benign false positives, all flagged, curated benign false positives) at ``threshold``."""
    tp = fp = flagged = checked = 0
    for item in scored:
        s = item.score
        if s.category is not None and s.category.value == category and s.score >= threshold and not s.protected_by:
            flagged += 1
            tp += item.label == category
            fp += item.label == BENIGN
            checked += item.curated
    return tp, fp, flagged, checked


def choose_thresholds(scored: Sequence[Scored], categories: Sequence[str]) -> dict[str, float]:
    """Per category, the lowest threshold keeping benign blocks within ``MAX_BENIGN_SHARE`` and ``MAX_CURATED``."""
    benign = max(1, sum(item.label == BENIGN for item in scored))
    out: dict[str, float] = {}
    for category in categories:
        out[category] = GRID[-1]
        for threshold in GRID:
            _, fp, _, checked = _hits(scored, category, threshold)
            if fp / benign <= MAX_BENIGN_SHARE and checked <= MAX_CURATED:
                out[category] = threshold
                break
    return out


def measure(scored: Sequence[Scored], thresholds: dict[str, float]) -> dict[str, Any]:
    """Per-category precision, recall and benign false positives; the benign block rate over all."""
    benign = sum(item.label == BENIGN for item in scored)
    per: dict[str, Any] = {}
    blocked_benign = 0
    for category, threshold in sorted(thresholds.items()):
        tp, fp, flagged, checked = _hits(scored, category, threshold)
        support = sum(item.label == category for item in scored)
        blocked_benign += fp
        per[category] = {
            "threshold": threshold,
            "support": support,
            "precision": round(tp / flagged, 4) if flagged else None,
            "recall": round(tp / support, 4) if support else None,
            "benign_false_positives": fp,
            "curated_benign_false_positives": checked,
        }
    harmful = sum(item.label != BENIGN for item in scored)
    caught = sum(v["recall"] * v["support"] for v in per.values() if v["recall"] is not None)
    return {
        "names": len(scored),
        "benign": benign,
        "benign_blocked_share": round(blocked_benign / benign, 5) if benign else None,
        "harmful_recall": round(caught / harmful, 4) if harmful else None,
        "categories": per,
    }


def recommended_actions(validation: dict[str, Any]) -> dict[str, str]:
    """``block`` where validation shows very high precision on enough names, ``log`` elsewhere."""
    out = {}
    for category, m in validation["categories"].items():
        precise = m["precision"] is not None and m["precision"] >= BLOCK_PRECISION
        out[category] = "block" if precise and m["support"] >= MIN_SUPPORT and m["recall"] else "log"
    return out
