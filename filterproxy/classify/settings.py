"""Policy configuration: client groups, per-category actions and weekly time windows.

It stays in the core beside :mod:`filterproxy.classify.policy`, which reads it, as every package owns
its own section (``lists/settings.py``, ``dns/settings.py``...); it imports only the two pure leaves of
``config/`` (the ``Section`` base and the ``Network`` field type), never config loading.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from filterproxy.config.section import Section
from filterproxy.config.types import Network
from filterproxy.model import POLICY_CATEGORIES, Action, Category

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Window(Section):
    """A weekly time window in which a category gets another action (e.g. social media at lunch)."""

    days: list[Day] = Field(default=list(DAYS), description="Days of the week the window applies to.")
    start: time = Field(description="Start time (inclusive), school local time, HH:MM.")
    end: time = Field(description="End time (exclusive), school local time, HH:MM; may wrap past midnight.")
    action: Action = Field(description="Action inside the window: block, log or allow.")


def _shorthand(value: object) -> object:
    """Accept ``social: allow`` as short for ``social: {action: allow}``."""
    return {"action": value} if isinstance(value, str) else value


class CategoryRule(Section):
    """What a group does with one category, by default and inside time windows."""

    action: Action = Field(default=Action.BLOCK, description="Action outside any window.")
    windows: list[Window] = Field(default=[], description="Time windows with another action; first match wins.")


RuleField = Annotated[CategoryRule, BeforeValidator(_shorthand)]

ContentAction = Literal["block", "log", "off"]
#: Content analysis out of the box: block the policy categories the phrase lists cover; only log
#: self-harm and extremism, whose readers most often need support pages that must never be blocked.
CONTENT_DEFAULTS: dict[Category, ContentAction] = {
    Category.ADULT: "block",
    Category.VIOLENCE: "block",
    Category.HATE: "block",
    Category.DRUGS: "block",
    Category.GAMBLING: "block",
    Category.SELFHARM: "log",
    Category.EXTREMISM: "log",
}
CONTENT_THRESHOLD = 100.0


class ContentRule(Section):
    """What a group does when a page's content scores over a category's threshold."""

    action: ContentAction = Field(
        default="block",
        description="block (the block page; the site cached as blocked), log (allow and record) or off.",
    )
    threshold: float = Field(
        default=CONTENT_THRESHOLD, gt=0, description="Points a page needs in this category (see docs/content.md)."
    )


ContentField = Annotated[ContentRule, BeforeValidator(_shorthand)]


def _default_content() -> dict[Category, ContentRule]:
    return {category: ContentRule(action=action) for category, action in CONTENT_DEFAULTS.items()}


ModelAction = Literal["block", "log", "off"]


def _model_shorthand(value: object) -> object:
    """Accept ``adult: block`` as short for ``adult: {action: block}``."""
    return {"action": value} if isinstance(value, str) else value


class ModelRule(Section):
    """What a group does when the hostname model puts an unlisted name in one category."""

    action: ModelAction = Field(default="log", description="block, log (allow but record) or off.")
    threshold: float | None = Field(
        default=None, ge=0, le=1,
        description="Score (0-1) from which the rule applies; empty: the model's own threshold from its validation.",
    )


ModelRuleField = Annotated[ModelRule, BeforeValidator(_model_shorthand)]


def default_model_rules() -> dict[Category, ModelRule]:
    """Block where the shipped model's validation shows very high precision (adult, gambling); log elsewhere."""
    blocked = (Category.ADULT, Category.GAMBLING)
    return {c: ModelRule(action="block" if c in blocked else "log") for c in POLICY_CATEGORIES}


class Group(Section):
    """A set of clients (by network) sharing one policy."""

    networks: list[Network] = Field(
        default=[], description="Client networks (CIDR) in this group; the most specific match wins."
    )
    directory_groups: list[str] = Field(
        default=[],
        description="Directory groups whose members are in this group wherever they connect from: LDAP "
        "group DNs (memberOf) or RADIUS Class/Filter-Id values (case-insensitive). A person's directory "
        "group beats their network's group; among several, the most specific (most DN parts) wins.",
    )
    categories: dict[Category, RuleField] = Field(
        default={},
        description="Per-category rule (block | log | allow, with windows). Categories not named are blocked.",
    )
    safesearch: bool = Field(default=True, description="Enforce SafeSearch on Google, Bing and DuckDuckGo.")
    youtube: Literal["strict", "moderate", "off"] = Field(
        default="strict", description="YouTube restricted mode: strict, moderate or off."
    )
    intercept: bool = Field(
        default=False, description="Full TLS interception for this group (needs the school CA on devices)."
    )
    content: dict[Category, ContentField] = Field(
        default_factory=_default_content,
        description="Page-content analysis per category (block | log | off, and a threshold); categories not "
        "named keep their default. Applies to pages the proxy reads: plain HTTP, and HTTPS where intercepted.",
    )
    model: dict[Category, ModelRuleField] = Field(
        default_factory=default_model_rules,
        description="Hostname-model rule per category for names no list decides (block | log | off, threshold);"
        " categories not named are off. Never stricter than the group's own action for the category.",
    )

    @field_validator("categories")
    @classmethod
    def _illegal_stays_blocked(cls, value: dict[Category, CategoryRule]) -> dict[Category, CategoryRule]:
        rule = value.get(Category.ILLEGAL)
        if rule is not None and (rule.action is not Action.BLOCK or rule.windows):
            raise ValueError("the 'illegal' category is always blocked and cannot be overridden")
        return value


def _default_groups() -> dict[str, Group]:
    return {"pupils": Group(categories={c: CategoryRule() for c in POLICY_CATEGORIES})}


class PolicySettings(Section):
    """Groups of clients and what each may reach."""

    timezone: str = Field(default="Europe/London", description="Time zone used for schedule windows.")
    default_group: str = Field(
        default="pupils", description="Group for clients that match no network: the strictest (pupil) policy."
    )
    groups: dict[str, Group] = Field(default_factory=_default_groups, description="Client groups by name.")

    @model_validator(mode="after")
    def _default_group_exists(self) -> PolicySettings:
        if self.default_group not in self.groups:
            raise ValueError(f"default_group {self.default_group!r} is not one of the groups {sorted(self.groups)}")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value
