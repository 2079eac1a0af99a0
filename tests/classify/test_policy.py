"""Schedules, group selection and the guard that keeps `illegal` blocked."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError

from filterproxy.classify.policy import Policy, in_window
from filterproxy.classify.settings import PolicySettings, Window
from filterproxy.model import Action, Category

NIGHT = Window(days=["fri"], start=time(22, 0), end=time(6, 0), action=Action.ALLOW)


@pytest.mark.parametrize(
    ("day", "now", "inside"),
    [
        ("fri", time(23, 0), True),
        ("sat", time(5, 59), True),  # after midnight the window still belongs to Friday
        ("sat", time(6, 0), False),
        ("fri", time(5, 0), False),  # Thursday night is not in the window
        ("thu", time(23, 0), False),
    ],
)
def test_windows_wrap_past_midnight(day: str, now: time, inside: bool) -> None:
    assert in_window(NIGHT, day, now) is inside


def test_most_specific_network_wins() -> None:
    policy = Policy(PolicySettings.model_validate({
        "groups": {"pupils": {"networks": ["10.0.0.0/8"]}, "staff": {"networks": ["10.20.0.0/16"]},
                   "office": {"networks": ["10.20.30.0/24"]}, "v6": {"networks": ["2001:db8::/32"]}},
    }))
    assert policy.group_of(ipaddress.ip_address("10.20.30.4")) == "office"
    assert policy.group_of(ipaddress.ip_address("10.20.31.4")) == "staff"
    assert policy.group_of(ipaddress.ip_address("10.21.0.1")) == "pupils"
    assert policy.group_of(ipaddress.ip_address("2001:db8::1")) == "v6"
    assert policy.group_of(ipaddress.ip_address("172.16.0.1")) == "pupils"


def test_schedule_uses_school_time_zone() -> None:
    policy = Policy(PolicySettings.model_validate({
        "timezone": "Europe/London",
        "groups": {"pupils": {"categories": {"social": {"action": "block", "windows": [
            {"days": ["mon"], "start": "12:00", "end": "13:00", "action": "allow"}]}}}},
    }))
    summer_noon_london = datetime(2026, 6, 22, 11, 30, tzinfo=UTC)  # 12:30 BST
    assert policy.actions("pupils", summer_noon_london)[Category.SOCIAL] is Action.ALLOW
    assert policy.actions("pupils", datetime(2026, 6, 22, 12, 30, tzinfo=UTC))[Category.SOCIAL] is Action.BLOCK


def test_illegal_cannot_be_allowed_by_config() -> None:
    with pytest.raises(ValidationError, match="illegal"):
        PolicySettings.model_validate({"groups": {"pupils": {"categories": {"illegal": "allow"}}}})


def test_default_group_must_exist() -> None:
    with pytest.raises(ValidationError, match="default_group"):
        PolicySettings.model_validate({"default_group": "nobody"})


def test_out_of_the_box_all_six_policy_categories_blocked() -> None:
    policy = Policy(PolicySettings())
    actions = policy.actions(policy.group_of(ipaddress.ip_address("192.0.2.1")), datetime.now(UTC))
    for category in ("adult", "violence", "hate", "drugs", "gambling", "social"):
        assert actions.get(Category(category), Action.BLOCK) is Action.BLOCK
