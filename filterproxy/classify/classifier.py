"""classify(Query) -> Verdict: one pure, synchronous answer shared by the DNS and HTTP paths.

Precedence, first match wins:
  1. illegal feeds (domain or URL level): always block; nothing overrides them
  2. the school's own deny list for `illegal`: as binding as a feed (the allow list cannot undo it)
  3. the school's allow list
  4. the school's deny list (other categories)
  5. category lists, with the action the client's group has for the category at this time
  6. for a name no list decides: the hostname model, under the group's model rules (reason MODEL)

No I/O, no globals, no dnslib or mitmproxy: the adapters translate their wire objects, and the
wiring hands in what comes from files (the index, the local lists, the public suffix rules, the model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from filterproxy.classify.index import SEVERITY_ORDER, Combo, Index, Match
from filterproxy.classify.normalise import normalise_name, normalise_path, parse_ip
from filterproxy.classify.policy import Policy
from filterproxy.classify.site import PublicSuffixes
from filterproxy.model import Action, Category, IPAddress, Query, Reason, Verdict


class Judge(Protocol):
    """The last step for a name no list decides (the hostname model, :mod:`filterproxy.categorise.judge`)."""

    def judge(self, policy: Policy, group: str, host: str, at: datetime) -> Verdict: ...

LOCAL_ALLOW = "local/allow"
LOCAL_ILLEGAL = f"local/{Category.ILLEGAL.value}"
_RANKED_ACTIONS = (Action.BLOCK, Action.LOG, Action.ALLOW)
_ACTION_RANK = {action: rank for rank, action in enumerate(_RANKED_ACTIONS)}


@dataclass(frozen=True, slots=True)
class LocalLists:
    """The school's own lists: small, exact strings, rebuilt in milliseconds on every edit."""

    allow: frozenset[str] = frozenset()
    deny: dict[str, Category] = field(default_factory=dict)  # domain -> category
    group_allow: dict[str, frozenset[str]] = field(default_factory=dict)  # group -> domains allowed for it
    illegal: frozenset[str] = field(init=False, default=frozenset())  # the deny entries of `illegal`

    def __post_init__(self) -> None:
        object.__setattr__(self, "illegal", frozenset(n for n, c in self.deny.items() if c is Category.ILLEGAL))

    def allowed(self, name: str, group: str | None = None) -> str | None:
        """The allow-list entry covering ``name`` (itself or a parent) for everyone or ``group``, if any."""
        found = _covering(name, self.allow) if self.allow else None
        if found is None and group is not None and self.group_allow:
            entries = self.group_allow.get(group)
            found = _covering(name, entries) if entries else None
        return found

    def illegal_rule(self, name: str) -> str | None:
        """The school's own `illegal` entry covering ``name``, if any (checked before the allow list)."""
        if not self.illegal:
            return None
        return _covering(name, self.illegal)

    def denied(self, name: str) -> tuple[str, Category] | None:
        if not self.deny:
            return None
        rule = _covering(name, self.deny)
        return (rule, self.deny[rule]) if rule is not None else None


def _covering(name: str, entries: frozenset[str] | dict[str, Category]) -> str | None:
    """The entry that is ``name`` or its nearest parent."""
    if name in entries:
        return name
    start = name.find(".")
    while start >= 0:
        parent = name[start + 1 :]
        if parent in entries:
            return parent
        start = name.find(".", start + 1)
    return None


class Classifier:
    """An immutable snapshot of policy + index + local lists (+ the hostname model, if any)."""

    __slots__ = ("index", "judge", "local", "policy", "suffixes")

    def __init__(self, policy: Policy, index: Index, local: LocalLists | None = None,
                 judge: Judge | None = None, *, suffixes: PublicSuffixes) -> None:
        self.policy = policy
        self.index = index
        self.local = local or LocalLists()
        self.judge = judge
        self.suffixes = suffixes  # registrable domains (verdict.site) for incidents and the block page

    def classify(self, query: Query) -> Verdict:
        policy = self.policy
        group = policy.group_for(query.client, query.directory) if query.directory else policy.group_of(query.client)
        host = _fast_normalise(query.host)
        address = parse_ip(host)
        if address is not None:
            return self._classify_ip(query, group, address)
        matches = self._matches(host, query.path)
        illegal = _first_illegal(matches) if matches else None
        if illegal is not None:
            return _verdict(Action.BLOCK, Reason.ILLEGAL, group, host, Category.ILLEGAL, illegal,
                            self.suffixes.registrable_domain(host))
        local = self.local
        if local.illegal:
            rule = local.illegal_rule(host)
            if rule is not None:
                return Verdict(Action.BLOCK, Reason.ILLEGAL, group, host, Category.ILLEGAL, LOCAL_ILLEGAL, rule,
                               self.suffixes.registrable_domain(host))
        allowed = local.allowed(host, group) if local.allow or local.group_allow else None
        if allowed is not None:
            return Verdict(Action.ALLOW, Reason.LOCAL_ALLOW, group, host, None, LOCAL_ALLOW, allowed,
                           self.suffixes.registrable_domain(host))
        denied = local.denied(host) if local.deny else None
        if denied is not None:
            rule, category = denied
            return Verdict(Action.BLOCK, Reason.LOCAL_DENY, group, host, category, f"local/{category.value}",
                           rule, self.suffixes.registrable_domain(host))
        if not matches:
            judge = self.judge
            if judge is None:
                return Verdict(Action.ALLOW, Reason.UNLISTED, group, host)
            return judge.judge(self.policy, group, host, query.at)
        return self._by_category(query, group, host, matches, Reason.CATEGORY)

    def needs_proxy(self, host: str) -> bool:
        """Whether a name-level decision about ``host`` is not final (URL-level entries exist)."""
        return self.index.has_url_entries(_fast_normalise(host))

    def _matches(self, host: str, path: str | None) -> list[Match]:
        index = self.index
        table = index.domains
        found: list[Match] = []
        if table is not None:
            for combo, start in table.get_suffixes(host):
                found.append(Match(index.combos[combo], host[start:]))
        if index.tlds:
            tld = index.tld_match(host)
            if tld is not None:
                found.append(tld)
        if path is not None and index.urls is not None:
            found.extend(index.match_url(host, normalise_path(path).lower()))
        return index.excepted(host, found) if found and index.exceptions is not None else found

    def _classify_ip(self, query: Query, group: str, address: IPAddress) -> Verdict:
        host = str(address)
        match = self.index.match_ip(address)
        if match is None:
            return Verdict(Action.ALLOW, Reason.UNLISTED, group, host, site=host)
        if match.combo.illegal:
            return _verdict(Action.BLOCK, Reason.ILLEGAL, group, host, Category.ILLEGAL, match, host)
        return self._by_category(query, group, host, [match], Reason.IP_LIST)

    def _by_category(self, query: Query, group: str, host: str, matches: list[Match], reason: Reason) -> Verdict:
        """Block beats log beats allow; within one action the most serious category names the verdict."""
        actions = self.policy.actions(group, query.at)
        if len(matches) == 1:  # the common case: one listed suffix
            single: Match | None = matches[0]
            ordered = matches[0].combo.ordered
            listed: dict[Category, Match] = {}
        else:  # the most specific match wins for each category
            single = None
            listed = {category: match for match in reversed(matches) for category in match.combo.sources}
            ordered = tuple(c for c in SEVERITY_ORDER if c in listed)
        best, best_rank = ordered[0], 3
        for category in ordered:
            rank = _ACTION_RANK[actions.get(category, Action.BLOCK)]
            if rank < best_rank:
                best, best_rank = category, rank
                if rank == 0:
                    break
        extra = tuple(c for c in ordered if c is not best) if len(ordered) > 1 else ()
        match = single if single is not None else listed[best]
        site = host if reason is Reason.IP_LIST else self.suffixes.registrable_domain(host)
        return _verdict(_RANKED_ACTIONS[best_rank], reason, group, host, best, match, site, extra)


def _first_illegal(matches: list[Match]) -> Match | None:
    for match in matches:
        if match.combo.illegal:
            return match
    return None


def _verdict(
    action: Action,
    reason: Reason,
    group: str,
    host: str,
    category: Category,
    match: Match,
    site: str,
    extra: tuple[Category, ...] = (),
) -> Verdict:
    combo: Combo = match.combo
    return Verdict(action, reason, group, host, category, combo.sources[category], match.rule, site, extra)


def _fast_normalise(host: str) -> str:
    """Lower-case and strip a trailing dot; the slow IDN path only for non-ASCII names."""
    if host.isascii():
        return host.strip().rstrip(".").lower()
    try:
        return normalise_name(host)
    except ValueError:
        return host.strip().rstrip(".").lower()
