"""Policy for model verdicts: block | log | off per group and category, thresholds, caps, the cache."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from filterproxy.categorise.judge import NameJudge
from filterproxy.categorise.modelfile import decode, encode
from filterproxy.categorise.scorer import HostModel
from filterproxy.classify.settings import PolicySettings
from filterproxy.lists.testing import make_classifier
from filterproxy.model import Action, Category, Query, Reason

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PUPIL = ipaddress.ip_address("10.0.0.5")
STAFF = ipaddress.ip_address("10.1.0.5")


def tiny_model() -> HostModel:
    """Two features: 'porn' pushes to adult (score ~0.98), 'cas' to gambling (~0.73)."""
    classes = ("benign", "adult", "violence", "hate", "drugs", "gambling", "social")
    weights = np.zeros((2, 7), np.float32)
    weights[0, 1] = 6.0
    weights[1, 5] = 3.0
    data = encode(classes, ("porn", "cas"), weights, np.zeros(7, np.float32),
                  {"version": "tiny1", "thresholds": {"adult": 0.9, "gambling": 0.9}})
    return decode(data)


def policy(pupils: dict[str, Any], staff_categories: dict[str, str] | None = None) -> PolicySettings:
    return PolicySettings.model_validate({
        "groups": {
            "pupils": {"model": pupils},
            "staff": {"networks": ["10.1.0.0/16"], "model": pupils, "categories": staff_categories or {}},
        }
    })


def verdict(rules: dict[str, Any], name: str, client: Any = PUPIL, staff: dict[str, str] | None = None) -> Any:
    classifier = make_classifier({"adult": ["listed.example"]}, policy=policy(rules, staff),
                                 judge=NameJudge(tiny_model()))
    return classifier.classify(Query(client, name, AT))


@pytest.mark.parametrize(
    ("rules", "name", "action", "reason"),
    [
        ({"adult": "block"}, "porn.example", Action.BLOCK, Reason.MODEL),
        ({"adult": "log"}, "porn.example", Action.LOG, Reason.MODEL),
        ({"adult": "off"}, "porn.example", Action.ALLOW, Reason.UNLISTED),
        ({}, "porn.example", Action.ALLOW, Reason.UNLISTED),  # categories not named are off
        ({"adult": {"action": "block", "threshold": 0.999}}, "porn.example", Action.ALLOW, Reason.UNLISTED),
        ({"gambling": "block"}, "cas.example", Action.ALLOW, Reason.UNLISTED),  # 0.73 < the model's 0.9
        ({"gambling": {"action": "block", "threshold": 0.5}}, "cas.example", Action.BLOCK, Reason.MODEL),
        ({"adult": "block"}, "news.example", Action.ALLOW, Reason.UNLISTED),
        ({"adult": "block"}, "porn.sch.uk", Action.LOG, Reason.MODEL),  # vetted suffix: at most logged
        ({"adult": "block"}, "pornawareness.example", Action.LOG, Reason.MODEL),  # protective word
        ({"adult": "off"}, "listed.example", Action.BLOCK, Reason.CATEGORY),  # lists decide first
    ],
)
def test_model_rules(rules: dict[str, Any], name: str, action: Action, reason: Reason) -> None:
    found = verdict(rules, name)
    assert (found.action, found.reason) == (action, reason)
    if reason is Reason.MODEL:
        assert found.source == "model/tiny1" and found.category is not None
        assert found.score is not None and found.evidence and found.rule.startswith("score ")


def test_model_verdict_is_never_stricter_than_the_groups_category_action() -> None:
    rules = {"adult": "block"}
    assert verdict(rules, "porn.example", STAFF, {"adult": "allow"}).reason is Reason.UNLISTED
    assert verdict(rules, "porn.example", STAFF, {"adult": "log"}).action is Action.LOG
    assert verdict(rules, "porn.example", PUPIL).action is Action.BLOCK


def test_default_rules_block_adult_and_gambling_and_log_the_rest() -> None:
    group = PolicySettings().groups["pupils"]
    assert {c: r.action for c, r in group.model.items()} == {
        Category.ADULT: "block", Category.GAMBLING: "block", Category.DRUGS: "log",
        Category.HATE: "log", Category.VIOLENCE: "log", Category.SOCIAL: "log"}


def test_cache_is_bounded_first_in_first_out_and_counts() -> None:
    judge = NameJudge(tiny_model(), cache_size=2)
    for name in ("a.example", "b.example", "a.example", "c.example"):
        judge.score(name)
    assert judge.scored == 3 and judge.cached == 2
    assert list(judge._cache) == ["b.example", "c.example"]  # the oldest went first
    classifier = make_classifier(policy=policy({"adult": "block"}), judge=judge)
    classifier.classify(Query(PUPIL, "porn.example", AT))
    assert judge.counts == {(Category.ADULT, Action.BLOCK): 1}
