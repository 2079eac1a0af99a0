"""Classification tables: precedence, subdomains, normalisation, URLs, IPs, groups and schedules."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest

from filterproxy.classify.settings import PolicySettings
from filterproxy.lists.testing import make_classifier
from filterproxy.model import Action, Category, Query, Reason

PUPIL = ipaddress.ip_address("10.1.2.3")
STAFF = ipaddress.ip_address("10.9.0.7")
GUEST = ipaddress.ip_address("192.0.2.50")
MONDAY_NOON = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)  # Europe/London = UTC in November
MONDAY_NINE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

POLICY = PolicySettings.model_validate(
    {
        "default_group": "pupils",
        "groups": {
            "pupils": {
                "networks": ["10.0.0.0/8"],
                "categories": {
                    "social": {
                        "action": "block",
                        "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "12:00",
                                     "end": "13:00", "action": "allow"}],
                    },
                    "gambling": "block",
                    "drugs": "log",
                },
            },
            "staff": {"networks": ["10.9.0.0/16"], "categories": {"social": "allow", "drugs": "allow"}},
        },
    }
)


@pytest.fixture(scope="module")
def classifier():  # type: ignore[no-untyped-def]
    return make_classifier(
        {
            "gambling": ["bet.example", "*.casino.example", "both.example"],
            "adult": ["both.example", "xn--bcher-kva.example"],
            "social": ["facebook.com"],
            "drugs": ["weed.example"],
            "malware": ["zip"],
        },
        urls={"adult": ["media.example/adult/", "media.example/x/y.html"]},
        illegal=["iwf.example/abuse/", "evil.example"],
        allow=["ok.bet.example", "evil.example", "allowed.example", "own-illegal.example",
               "sub.parent-illegal.example"],
        local_deny={"hate": ["hate.example", "allowed.example", "x.parent-illegal.example"],
                    "illegal": ["own-illegal.example", "parent-illegal.example"]},
        ips={"malware": ["203.0.113.7", "198.51.100.0/24"]},
        policy=POLICY,
    )


CASES = [
    # host, path, client, at, action, reason, category, rule
    ("bet.example", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.GAMBLING, "bet.example"),
    ("www.bet.example", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.GAMBLING, "bet.example"),
    ("A.B.BET.EXAMPLE.", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.GAMBLING, "bet.example"),
    ("  bet.example  ", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.GAMBLING, "bet.example"),
    ("notbet.example", None, PUPIL, MONDAY_NINE, Action.ALLOW, Reason.UNLISTED, None, None),
    ("casino.example", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.GAMBLING, "casino.example"),
    ("bücher.example", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.ADULT,
     "xn--bcher-kva.example"),
    ("both.example", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.ADULT, "both.example"),
    ("ok.bet.example", None, PUPIL, MONDAY_NINE, Action.ALLOW, Reason.LOCAL_ALLOW, None, "ok.bet.example"),
    ("x.ok.bet.example", None, PUPIL, MONDAY_NINE, Action.ALLOW, Reason.LOCAL_ALLOW, None, "ok.bet.example"),
    ("evil.example", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.ILLEGAL, Category.ILLEGAL, "evil.example"),
    ("evil.example", None, STAFF, MONDAY_NINE, Action.BLOCK, Reason.ILLEGAL, Category.ILLEGAL, "evil.example"),
    ("iwf.example", "/abuse/img.jpg", STAFF, MONDAY_NINE, Action.BLOCK, Reason.ILLEGAL, Category.ILLEGAL,
     "iwf.example/abuse"),
    ("iwf.example", "/news/", PUPIL, MONDAY_NINE, Action.ALLOW, Reason.UNLISTED, None, None),
    ("hate.example", None, STAFF, MONDAY_NINE, Action.BLOCK, Reason.LOCAL_DENY, Category.HATE, "hate.example"),
    ("allowed.example", None, PUPIL, MONDAY_NINE, Action.ALLOW, Reason.LOCAL_ALLOW, None, "allowed.example"),
    # the school's own illegal entries come before its allow list, and before a deeper deny entry
    ("own-illegal.example", None, STAFF, MONDAY_NINE, Action.BLOCK, Reason.ILLEGAL, Category.ILLEGAL,
     "own-illegal.example"),
    ("sub.parent-illegal.example", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.ILLEGAL, Category.ILLEGAL,
     "parent-illegal.example"),
    ("a.x.parent-illegal.example", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.ILLEGAL, Category.ILLEGAL,
     "parent-illegal.example"),
    ("media.example", "/adult/page?id=3", PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.ADULT,
     "media.example/adult"),
    ("www.media.example", "/ADULT/", PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.ADULT,
     "media.example/adult"),
    ("media.example", "/adultery", PUPIL, MONDAY_NINE, Action.ALLOW, Reason.UNLISTED, None, None),
    ("media.example", "/x/y.html", PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.ADULT,
     "media.example/x/y.html"),
    ("media.example", None, PUPIL, MONDAY_NINE, Action.ALLOW, Reason.UNLISTED, None, None),
    ("facebook.com", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.SOCIAL, "facebook.com"),
    ("facebook.com", None, PUPIL, MONDAY_NOON, Action.ALLOW, Reason.CATEGORY, Category.SOCIAL, "facebook.com"),
    ("facebook.com", None, STAFF, MONDAY_NINE, Action.ALLOW, Reason.CATEGORY, Category.SOCIAL, "facebook.com"),
    ("facebook.com", None, GUEST, MONDAY_NOON, Action.ALLOW, Reason.CATEGORY, Category.SOCIAL, "facebook.com"),
    ("bet.example", None, STAFF, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.GAMBLING, "bet.example"),
    ("weed.example", None, PUPIL, MONDAY_NINE, Action.LOG, Reason.CATEGORY, Category.DRUGS, "weed.example"),
    ("weed.example", None, STAFF, MONDAY_NINE, Action.ALLOW, Reason.CATEGORY, Category.DRUGS, "weed.example"),
    ("203.0.113.7", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.IP_LIST, Category.MALWARE, "203.0.113.7"),
    ("198.51.100.9", None, PUPIL, MONDAY_NINE, Action.BLOCK, Reason.IP_LIST, Category.MALWARE, "198.51.100.0/24"),
    ("203.0.113.8", None, PUPIL, MONDAY_NINE, Action.ALLOW, Reason.UNLISTED, None, None),
    ("files.evil.zip", None, STAFF, MONDAY_NINE, Action.BLOCK, Reason.CATEGORY, Category.MALWARE, "zip"),
    ("zip.example", None, STAFF, MONDAY_NINE, Action.ALLOW, Reason.UNLISTED, None, None),
]


@pytest.mark.parametrize(("host", "path", "client", "at", "action", "reason", "category", "rule"), CASES)
def test_classification(classifier, host, path, client, at, action, reason, category, rule):  # type: ignore[no-untyped-def]
    verdict = classifier.classify(Query(client, host, at, path))
    assert (verdict.action, verdict.reason, verdict.category, verdict.rule) == (action, reason, category, rule)


def test_verdict_carries_group_source_site_and_bounded_label(classifier):  # type: ignore[no-untyped-def]
    verdict = classifier.classify(Query(STAFF, "www.bet.example", MONDAY_NINE))
    assert verdict.group == "staff"
    assert verdict.source == "test/gambling"
    assert verdict.site == "bet.example"
    assert verdict.label == "block:gambling"
    assert classifier.classify(Query(GUEST, "x.example", MONDAY_NINE)).label == "allow:unlisted"


def test_other_listed_categories_are_reported(classifier):  # type: ignore[no-untyped-def]
    verdict = classifier.classify(Query(PUPIL, "both.example", MONDAY_NINE))
    assert verdict.extra_categories == (Category.GAMBLING,)


def test_unmatched_client_gets_default_pupil_policy(classifier):  # type: ignore[no-untyped-def]
    assert classifier.policy.group_of(GUEST) == "pupils"
    assert classifier.policy.group_of(ipaddress.ip_address("::ffff:10.9.1.1")) == "staff"


def test_needs_proxy_only_where_url_entries_exist(classifier):  # type: ignore[no-untyped-def]
    assert classifier.needs_proxy("www.media.example")
    assert classifier.needs_proxy("iwf.example")
    assert not classifier.needs_proxy("bet.example")
