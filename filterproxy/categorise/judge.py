"""From a model score to a verdict under the client's group policy, cached per name.

The score of a name does not depend on who asks, so it is cached per name (a
:class:`~filterproxy.bounded.BoundedDict`, first in first out); the group's rule is applied on every query, a
few dictionary lookups. A model verdict is never stricter than the group's own action for the
category (a group that allows social media is not blocked from it by the model), and a name with
a protective word or under a vetted public-sector suffix is at most logged.
"""

from __future__ import annotations

from datetime import datetime

from filterproxy.bounded import BoundedDict
from filterproxy.categorise.scorer import HostModel, Score
from filterproxy.classify.policy import Policy
from filterproxy.lists.suffixes import registrable_domain
from filterproxy.model import Action, Category, Reason, Verdict

CACHE_SIZE = 65536
DEFAULT_THRESHOLD = 0.99  # for a category the model has no validated threshold for
_MILDER = {Action.ALLOW: 0, Action.LOG: 1, Action.BLOCK: 2}


class NameJudge:
    """The hostname model as the classifier's last step, for names no list decides."""

    __slots__ = ("_cache", "counts", "model", "scored", "source")

    def __init__(self, model: HostModel, cache_size: int = CACHE_SIZE) -> None:
        self.model = model
        self.source = f"model/{model.version}"
        self._cache: BoundedDict[str, Score] = BoundedDict(max(1, cache_size))
        self.counts: dict[tuple[Category, Action], int] = {}  # model verdicts, read by the metrics at scrape time
        self.scored = 0  # names scored (cache misses)

    @property
    def cached(self) -> int:
        return len(self._cache)

    def score(self, host: str) -> Score:
        """The model's score of ``host``, computed once per name while it stays in the cache."""
        found = self._cache.get(host)
        if found is None:
            found = self.model.score(host)
            self.scored += 1
            self._cache[host] = found
        return found

    def judge(self, policy: Policy, group: str, host: str, at: datetime) -> Verdict:
        """A MODEL verdict when the group's rule applies to the name's score, else UNLISTED."""
        score = self.score(host)
        category = score.category
        if category is None:
            return Verdict(Action.ALLOW, Reason.UNLISTED, group, host)
        rule = policy.model_rule(group, category)
        if rule is None or rule.action == "off":
            return Verdict(Action.ALLOW, Reason.UNLISTED, group, host)
        threshold = rule.threshold if rule.threshold is not None else self.model.thresholds.get(
            category, DEFAULT_THRESHOLD)
        if score.score < threshold:
            return Verdict(Action.ALLOW, Reason.UNLISTED, group, host)
        if not score.explained:  # once per name: the evidence and the protective rule
            score = self.model.explain(host, score)
            self._cache[host] = score
        action = Action.BLOCK if rule.action == "block" and not score.protected_by else Action.LOG
        allowed = policy.actions(group, at).get(category, Action.BLOCK)
        if _MILDER[allowed] < _MILDER[action]:
            action = allowed
        if action is Action.ALLOW:
            return Verdict(Action.ALLOW, Reason.UNLISTED, group, host)
        key = (category, action)
        self.counts[key] = self.counts.get(key, 0) + 1
        return Verdict(action, Reason.MODEL, group, host, category, self.source,
                       summary(score, threshold), registrable_domain(host), (), score.score, score.evidence)


def summary(score: Score, threshold: float) -> str:
    """The short evidence line kept as the verdict's rule (and so in incidents)."""
    words = ", ".join(score.evidence) or "-"
    text = f"score {score.score:.2f} >= {threshold:.2f}: {words}"
    return text + (f" (at most logged: {score.protected_by})" if score.protected_by else "")
