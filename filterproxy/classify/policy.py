"""Which group a client is in, and what that group does with each category at a given time.

Group lookup is by most specific network; results are cached per client address. A person
whose directory groups (handed in on the query: LDAP DNs, RADIUS Class/Filter-Id values) name
a policy group gets that group wherever they connect from: a user-derived group beats a
network-derived one, and among several directory groups the most specific (most DN parts)
wins, then the order of the groups in the configuration. Actions with
time windows are evaluated in the school's time zone and cached per group and minute, so the
hot path does one dictionary lookup instead of a time-zone conversion.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, time
from zoneinfo import ZoneInfo

from filterproxy.bounded import BoundedDict
from filterproxy.classify.settings import (
    CONTENT_DEFAULTS,
    DAYS,
    CategoryRule,
    ContentRule,
    Group,
    ModelRule,
    PolicySettings,
    Window,
)
from filterproxy.model import Action, Category, IPAddress

_CACHE_LIMIT = 65536
_ALWAYS_BLOCKED = (Category.ILLEGAL,)
_CONTENT_OFF = ContentRule(action="off")
_CONTENT_DEFAULT = {category: ContentRule(action=action) for category, action in CONTENT_DEFAULTS.items()}


class Policy:
    """Read-only view of :class:`PolicySettings` tuned for per-query use."""

    __slots__ = (
        "_actions", "_default", "_directory", "_groups", "_model", "_networks", "_static", "_which", "_who",
        "_zone",
    )

    def __init__(self, settings: PolicySettings) -> None:
        self._default = settings.default_group
        self._zone = ZoneInfo(settings.timezone)
        self._groups = settings.groups
        nets = [(net, name) for name, group in settings.groups.items() for net in group.networks]
        # Most specific first, so the first containing network is the answer.
        self._networks = sorted(nets, key=lambda item: item[0].prefixlen, reverse=True)
        self._which: BoundedDict[IPAddress, str] = BoundedDict(_CACHE_LIMIT)
        self._directory = directory_rules(settings)
        self._who: BoundedDict[tuple[str, ...], str | None] = BoundedDict(_CACHE_LIMIT)
        self._actions: BoundedDict[tuple[str, int], dict[Category, Action]] = BoundedDict(_CACHE_LIMIT)
        self._static = {name: _static_actions(group) for name, group in settings.groups.items()}
        self._model = {name: group.model for name, group in settings.groups.items()}

    def group_of(self, client: IPAddress) -> str:
        """The group of the most specific network containing ``client``; else the default group."""
        if not self._networks:  # no group names a network: everyone gets the default group
            return self._default
        found = self._which.get(client)
        if found is None:
            found = self._lookup_group(client)
            self._which[client] = found
        return found

    def group_for(self, client: IPAddress, directory: tuple[str, ...]) -> str:
        """The group a person's directory groups name, else the group of the client's network."""
        if directory and self._directory:
            found = self.directory_group(directory)
            if found is not None:
                return found
        return self.group_of(client)

    def directory_group(self, directory: tuple[str, ...]) -> str | None:
        """The policy group the most specific of these directory groups maps to, if any (cached)."""
        if directory in self._who:
            return self._who[directory]
        found = match_directory(self._directory, directory)
        self._who[directory] = found
        return found

    def group(self, name: str) -> Group:
        return self._groups[name]

    def content_rule(self, group: str, category: Category) -> ContentRule:
        """The group's content rule for ``category``: as configured, else the default, else off."""
        rule = self._groups[group].content.get(category)
        if rule is not None:
            return rule
        return _CONTENT_DEFAULT.get(category, _CONTENT_OFF)

    def content_floor(self, category: Category) -> float | None:
        """The lowest threshold any group acts on (block or log) for ``category``; None if all are off."""
        found = [r.threshold for r in (self.content_rule(g, category) for g in self._groups) if r.action != "off"]
        return min(found) if found else None

    def model_rule(self, group: str, category: Category) -> ModelRule | None:
        """The group's hostname-model rule for ``category`` (None: the model is off for it)."""
        return self._model[group].get(category)

    def timeless(self, group: str) -> bool:
        """Whether the group's actions never depend on the time (no rule has a window)."""
        return self._static[group] is not None

    def actions(self, group: str, at: datetime) -> dict[Category, Action]:
        """Action per category for ``group`` at ``at`` (categories not in the dict are blocked)."""
        static = self._static[group]
        if static is not None:
            return static
        minute = int(at.timestamp()) // 60
        key = (group, minute)
        found = self._actions.get(key)
        if found is None:
            found = self._evaluate(self._groups[group], at)
            self._actions[key] = found
        return found

    def _lookup_group(self, client: IPAddress) -> str:
        if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
            client = client.ipv4_mapped
        for network, name in self._networks:
            if client.version == network.version and client in network:
                return name
        return self._default

    def _evaluate(self, group: Group, at: datetime) -> dict[Category, Action]:
        local = at.astimezone(self._zone)
        day, now = DAYS[local.weekday()], local.time()
        out = {category: rule_action(rule, day, now) for category, rule in group.categories.items()}
        for category in _ALWAYS_BLOCKED:
            out[category] = Action.BLOCK
        return out


def directory_key(value: str) -> str:
    """A directory group as compared: lower case, no spaces around ``,`` and ``=`` (DN spelling varies)."""
    parts = [part.strip() for part in value.strip().lower().split(",")]
    return ",".join("=".join(side.strip() for side in part.split("=", 1)) for part in parts)


def directory_rules(settings: PolicySettings) -> dict[str, tuple[int, int, str]]:
    """Directory key -> (specificity, -config order, policy group); the first group naming a key keeps it."""
    rules: dict[str, tuple[int, int, str]] = {}
    for order, (name, group) in enumerate(settings.groups.items()):
        for value in group.directory_groups:
            key = directory_key(value)
            rules.setdefault(key, (key.count(",") + 1, -order, name))
    return rules


def match_directory(rules: dict[str, tuple[int, int, str]], directory: tuple[str, ...]) -> str | None:
    """The policy group of the most specific directory group present (ties: the earlier group)."""
    best: tuple[int, int, str] | None = None
    for value in directory:
        rule = rules.get(directory_key(value))
        if rule is not None and (best is None or rule[:2] > best[:2]):
            best = rule
    return best[2] if best is not None else None


def _static_actions(group: Group) -> dict[Category, Action] | None:
    """The group's actions when no rule has a window (the common case), else None."""
    if any(rule.windows for rule in group.categories.values()):
        return None
    out = {category: rule.action for category, rule in group.categories.items()}
    for category in _ALWAYS_BLOCKED:
        out[category] = Action.BLOCK
    return out


def rule_action(rule: CategoryRule, day: str, now: time) -> Action:
    """The rule's action at local ``day``/``now``: the first window containing it, else the default."""
    for window in rule.windows:
        if in_window(window, day, now):
            return window.action
    return rule.action


def in_window(window: Window, day: str, now: time) -> bool:
    """Whether local ``day``/``now`` falls inside the window (end exclusive; may wrap past midnight)."""
    if window.start <= window.end:
        return day in window.days and window.start <= now < window.end
    if now >= window.start:
        return day in window.days
    previous = DAYS[(DAYS.index(day) - 1) % 7]  # after midnight, the window belongs to the day before
    return previous in window.days and now < window.end

