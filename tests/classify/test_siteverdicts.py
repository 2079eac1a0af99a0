"""The site cache of content findings: bounded, expiring, per-group thresholds, consulted by the engine."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from filterproxy.classify.policy import Policy
from filterproxy.classify.settings import PolicySettings
from filterproxy.classify.siteverdicts import SiteFinding, SiteVerdicts
from filterproxy.lists.suffixes import bundled_suffixes
from filterproxy.lists.testing import make_engine
from filterproxy.model import Action, Category, Query, Reason, Verdict

PUPIL, STAFF = ipaddress.ip_address("10.0.0.5"), ipaddress.ip_address("10.1.0.5")
SUFFIXES = bundled_suffixes()


def finding(points: float = 250.0, category: Category = Category.ADULT) -> SiteFinding:
    return SiteFinding(category, points, 0.71, ("free porn",), "content/adult@1", f"{points:.0f} points >= 100")


def policy() -> PolicySettings:
    return PolicySettings.model_validate(
        {
            "groups": {
                "pupils": {},
                "staff": {
                    "networks": ["10.1.0.0/16"],
                    "content": {"adult": {"action": "log", "threshold": 300}, "gambling": "off"},
                },
            }
        }
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def unlisted(host: str, group: str = "pupils") -> Verdict:
    return Verdict(Action.ALLOW, Reason.UNLISTED, group, host)


def test_a_finding_covers_the_host_and_names_under_it_but_not_its_parent() -> None:
    sites = SiteVerdicts()
    sites.record("www.site-a.example", finding())
    assert sites.finding("www.site-a.example") is not None
    assert sites.finding("cdn.www.site-a.example") is not None
    assert sites.finding("site-a.example") is None and sites.finding("example") is None


def test_findings_expire_and_the_oldest_is_evicted_first() -> None:
    clock = Clock()
    sites = SiteVerdicts(capacity=2, ttl=60, clock=clock)
    sites.record("a.example", finding())
    sites.record("b.example", finding())
    sites.record("a.example", finding(300))  # a refresh moves it to the back
    sites.record("c.example", finding())
    assert sites.finding("b.example") is None and len(sites) == 2
    assert sites.finding("a.example") == finding(300)
    clock.now += 61
    assert sites.finding("a.example") is None and len(sites) == 1  # expired entries go when read


def test_each_group_applies_its_own_action_and_threshold() -> None:
    sites, rules = SiteVerdicts(), Policy(policy())
    sites.record("site-a.example", finding(250))
    pupils = sites.decide(unlisted("site-a.example"), rules, SUFFIXES)
    assert (pupils.action, pupils.reason, pupils.category) == (Action.BLOCK, Reason.CONTENT, Category.ADULT)
    assert pupils.score == 0.71 and pupils.evidence == ("free porn",) and pupils.source == "content/adult@1"
    assert pupils.rule == "250 points >= 100" and pupils.site == "site-a.example"
    assert sites.decide(unlisted("site-a.example", "staff"), rules, SUFFIXES).reason is Reason.UNLISTED  # 250 < 300
    sites.record("site-a.example", finding(400))
    assert sites.decide(unlisted("site-a.example", "staff"), rules, SUFFIXES).action is Action.LOG
    sites.record("site-b.example", finding(400, Category.GAMBLING))
    assert sites.decide(unlisted("site-b.example", "staff"), rules, SUFFIXES).reason is Reason.UNLISTED  # off for staff
    assert rules.content_floor(Category.ADULT) == 100 and rules.content_floor(Category.SOCIAL) is None


def test_the_engine_consults_the_cache_only_for_what_no_list_decides() -> None:
    engine = make_engine(deny={"social": ["listed.example"]}, allow=["allowed.example"], policy=policy())
    before = engine.generation
    for host in ("site-a.example", "listed.example", "allowed.example"):
        engine.sites.record(host, finding())
    assert engine.generation > before  # DNS memos and the hot lane start again
    now = datetime.now(UTC)
    assert engine.classify(Query(PUPIL, "site-a.example", now)).reason is Reason.CONTENT
    assert engine.classify(Query(PUPIL, "listed.example", now)).reason is Reason.CATEGORY
    assert engine.classify(Query(PUPIL, "allowed.example", now)).reason is Reason.LOCAL_ALLOW
    generation = engine.generation
    engine.sites.record("site-a.example", finding(260))  # a known host: verdicts do not change
    assert engine.generation == generation
