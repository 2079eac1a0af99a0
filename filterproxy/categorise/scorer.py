"""The hostname model at decision time: a name in, a category with a calibrated score and evidence out.

Pure: the weights are handed in by :mod:`filterproxy.categorise.modelfile`; scoring one name is a
feature walk, one numpy gather-sum and a softmax (a few microseconds). Scores are the model's
softmax probabilities, which the validation split showed to be calibrated enough to threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from filterproxy.categorise.features import deleet, split_features, split_name
from filterproxy.categorise.lexicon import lexicon_words, protective
from filterproxy.model import Category

BENIGN = "benign"
EVIDENCE = 3
REPORTED = 0.5  # below this the model has nothing to say about the name (no threshold is lower)


@dataclass(frozen=True, slots=True)
class Score:
    """What the model makes of one name: its most likely harmful category and that category's score."""

    category: Category | None  # None: the model found nothing harmful-looking
    score: float  # calibrated probability of ``category``, 0-1
    evidence: tuple[str, ...] = ()  # the features that weighed most towards it (after :meth:`HostModel.explain`)
    protected_by: str | None = None  # a protective word or vetted suffix: never block, at most log
    explained: bool = False  # evidence and protected_by are worked out only for names that need them


NOTHING = Score(None, 0.0)


class HostModel:
    """A trained model: vocabulary, weights per class, the thresholds chosen on validation."""

    __slots__ = ("_bias", "_categories", "_ids", "_weights", "classes", "manifest", "thresholds", "version")

    def __init__(self, classes: tuple[str, ...], vocabulary: tuple[str, ...], weights: npt.NDArray[np.float32],
                 bias: npt.NDArray[np.float32], manifest: dict[str, Any]) -> None:
        if weights.shape != (len(vocabulary), len(classes)) or classes[0] != BENIGN:
            raise ValueError("model weights do not match its vocabulary and classes")
        self.classes = classes
        self._categories = tuple(Category(c) for c in classes[1:])
        self._ids = {feature: i for i, feature in enumerate(vocabulary)}
        self._weights = np.ascontiguousarray(weights, dtype=np.float32)
        self._bias = np.ascontiguousarray(bias, dtype=np.float32)
        self.manifest = manifest
        self.version = str(manifest.get("version", "unversioned"))
        self.thresholds: dict[Category, float] = {
            Category(c): float(t) for c, t in manifest.get("thresholds", {}).items() if c in classes
        }

    @property
    def size(self) -> int:
        return len(self._ids)

    def score(self, name: str) -> Score:
        """Score a normalised name (lower case, punycode, no trailing dot)."""
        body, suffix = split_name(name)
        names = split_features(body, suffix)
        found = self._ids
        ids = [i for i in map(found.get, names) if i is not None]
        z = (self._weights[ids].sum(axis=0) + self._bias).tolist() if ids else self._bias.tolist()
        harmful = z[1:]
        best = harmful.index(max(harmful)) + 1
        top = max(z)
        probability = math.exp(z[best] - top) / sum(math.exp(v - top) for v in z)
        if probability < REPORTED:
            return NOTHING
        return Score(self._categories[best - 1], round(probability, 4))

    def explain(self, name: str, score: Score) -> Score:
        """``score`` with its evidence and protective word: the slower half, only for names that need it."""
        if score.explained or score.category is None:
            return score
        body, suffix = split_name(name)
        evidence = self._evidence(split_features(body, suffix), body, score.category)
        return Score(score.category, score.score, evidence, protective(body, suffix), True)

    def judged(self, name: str) -> Score:
        """:meth:`score` and :meth:`explain` in one (for tests, evaluation and the CLI)."""
        return self.explain(name, self.score(name))

    def _evidence(self, names: list[str], body: str, category: Category) -> tuple[str, ...]:
        """The features pushing hardest from benign towards ``category``, as a person can read them."""
        found = self._ids
        known = [n for n in names if n in found]
        if not known:
            return ()
        best = self.classes.index(category.value)
        rows = self._weights[[found[n] for n in known]]
        lift = (rows[:, best] - rows[:, 0]).tolist()
        out: list[str] = []
        for position in sorted(range(len(lift)), key=lift.__getitem__, reverse=True)[: EVIDENCE * 3]:
            if lift[position] <= 0:
                break
            text = _readable(known[position], body, category)
            if text and text not in out and not any(text in o for o in out):
                out.append(text)
            if len(out) == EVIDENCE:
                break
        return tuple(out)


def _readable(feature: str, body: str, category: Category) -> str:
    if feature.startswith("l:"):
        words = lexicon_words(deleet(body), category)
        return f"word:{words[0]}" if words else ""
    if feature.startswith("w:"):
        return feature[2:]
    if feature.startswith("t:"):
        return "." + feature[2:]
    return feature.strip("^$")
