"""The nouns every part of filterproxy shares: categories, actions, queries and verdicts.

This module imports nothing from dnslib or mitmproxy: the DNS and HTTP adapters translate
their wire objects into a :class:`Query` and act on the :class:`Verdict` they get back.
"""

from __future__ import annotations

import enum
import ipaddress
from datetime import datetime
from typing import NamedTuple

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Category(enum.StrEnum):
    """Stable category ids. Values never change: they are stored in incidents and metrics."""

    ADULT = "adult"
    VIOLENCE = "violence"
    HATE = "hate"
    DRUGS = "drugs"
    GAMBLING = "gambling"
    SOCIAL = "social"
    SELFHARM = "selfharm"
    EXTREMISM = "extremism"
    MALWARE = "malware"
    CIRCUMVENTION = "circumvention"
    ILLEGAL = "illegal"


#: The six categories the school policy names; blocked for everyone out of the box.
POLICY_CATEGORIES: tuple[Category, ...] = (
    Category.ADULT,
    Category.VIOLENCE,
    Category.HATE,
    Category.DRUGS,
    Category.GAMBLING,
    Category.SOCIAL,
)

#: Plain words for the block page and reports.
CATEGORY_TITLES: dict[Category, str] = {
    Category.ADULT: "Adult content",
    Category.VIOLENCE: "Violence",
    Category.HATE: "Hate and discrimination",
    Category.DRUGS: "Illegal drugs",
    Category.GAMBLING: "Gambling",
    Category.SOCIAL: "Social networking",
    Category.SELFHARM: "Self-harm and suicide",
    Category.EXTREMISM: "Extremism and radicalisation",
    Category.MALWARE: "Malware and phishing",
    Category.CIRCUMVENTION: "Filter circumvention (VPNs, proxies, DNS over HTTPS)",
    Category.ILLEGAL: "Illegal content (reported feed)",
}


class Action(enum.StrEnum):
    """What a policy says to do with a category at a given time."""

    BLOCK = "block"
    LOG = "log"  # allowed, but recorded as an incident (monitoring)
    ALLOW = "allow"


class Reason(enum.StrEnum):
    """Why a verdict came out as it did. Bounded: safe as a metric label."""

    ILLEGAL = "illegal"  # an illegal feed lists it; nothing overrides this
    LOCAL_ALLOW = "local_allow"  # the school's allow list
    LOCAL_DENY = "local_deny"  # the school's deny list
    CATEGORY = "category"  # a category list, with the group's action for it now
    IP_LIST = "ip_list"  # an IP literal listed in a category's IP list
    UNLISTED = "unlisted"  # nothing matched
    MODEL = "model"  # no list decided; the hostname model scored the name
    CONTENT = "content"  # the page's content scored over its category's threshold


class Query(NamedTuple):
    """One question to the classifier: may this client reach this host (and path) now?

    Immutable; a NamedTuple because one is built per DNS query and per HTTP request.
    """

    client: IPAddress
    host: str  # a DNS name (any case, trailing dot allowed, IDN allowed) or an IP literal
    at: datetime  # timezone-aware; schedules are evaluated in the configured school time zone
    path: str | None = None  # URL path and query, when known (HTTP, or intercepted HTTPS)


class Verdict(NamedTuple):
    """The classifier's answer (immutable; a NamedTuple because it is built on every query).

    ``rule`` and ``host`` are high cardinality (for incidents and logs); ``label`` is built
    only from bounded sets and is safe as a Prometheus label value.
    """

    action: Action
    reason: Reason
    group: str
    host: str  # the normalised host that was classified
    category: Category | None = None
    source: str | None = None  # the list source id (e.g. "ut1/gambling", "local/deny")
    rule: str | None = None  # the entry that matched: a domain suffix, "host/path" prefix or IP
    site: str = ""  # registrable domain (eTLD+1) for grouping incidents
    extra_categories: tuple[Category, ...] = ()  # other listed categories
    score: float | None = None  # model/content verdicts: the calibrated score, 0-1
    evidence: tuple[str, ...] = ()  # model/content verdicts: the tokens or phrases that weighed most

    @property
    def blocked(self) -> bool:
        return self.action is Action.BLOCK

    @property
    def recorded(self) -> bool:
        """Whether this verdict should become an incident (blocks and log-only matches)."""
        return self.action is not Action.ALLOW

    @property
    def what(self) -> str:
        """The category's name, or the reason's when no category applies (bounded: safe as a label)."""
        return self.category.value if self.category else self.reason.value

    @property
    def label(self) -> str:
        """A short bounded label for metrics: ``<action>:<category or reason>``."""
        return f"{self.action.value}:{self.what}"
