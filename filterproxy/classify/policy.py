"""Which group a client is in, and what that group does with each category at a given time.

Group lookup is by most specific network; results are cached per client address. Actions with
time windows are evaluated in the school's time zone and cached per group and minute, so the
hot path does one dictionary lookup instead of a time-zone conversion.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, time
from zoneinfo import ZoneInfo

from filterproxy.classify.settings import DAYS, CategoryRule, Group, ModelRule, PolicySettings, Window
from filterproxy.model import Action, Category, IPAddress

_CACHE_LIMIT = 65536
_ALWAYS_BLOCKED = (Category.ILLEGAL,)


class Policy:
    """Read-only view of :class:`PolicySettings` tuned for per-query use."""

    __slots__ = ("_actions", "_default", "_groups", "_model", "_networks", "_static", "_which", "_zone")

    def __init__(self, settings: PolicySettings) -> None:
        self._default = settings.default_group
        self._zone = ZoneInfo(settings.timezone)
        self._groups = settings.groups
        nets = [(net, name) for name, group in settings.groups.items() for net in group.networks]
        # Most specific first, so the first containing network is the answer.
        self._networks = sorted(nets, key=lambda item: item[0].prefixlen, reverse=True)
        self._which: dict[IPAddress, str] = {}
        self._actions: dict[tuple[str, int], dict[Category, Action]] = {}
        self._static = {name: _static_actions(group) for name, group in settings.groups.items()}
        self._model = {name: group.model for name, group in settings.groups.items()}

    def group_of(self, client: IPAddress) -> str:
        """The group of the most specific network containing ``client``; else the default group."""
        if not self._networks:  # no group names a network: everyone gets the default group
            return self._default
        found = self._which.get(client)
        if found is None:
            found = self._lookup_group(client)
            if len(self._which) >= _CACHE_LIMIT:
                self._which.clear()
            self._which[client] = found
        return found

    def group(self, name: str) -> Group:
        return self._groups[name]

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
            if len(self._actions) >= _CACHE_LIMIT:
                self._actions.clear()
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

