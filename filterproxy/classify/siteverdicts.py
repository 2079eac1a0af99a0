"""What content analysis found out about sites, consulted by the classifier for unlisted names.

When the proxy (or the background categoriser) scores a page over a category's threshold, it
records a :class:`SiteFinding` for the page's host. From then on :meth:`SiteVerdicts.decide`
turns an ``unlisted`` verdict for that host, or any name under it, into a ``content`` verdict
with the asking group's action and threshold: the next request is decided without reading a
body, and DNS answers the same as HTTP, because both ask the one :class:`Engine`.

The cache is bounded (the oldest finding is evicted first, O(1) with
``OrderedDict.popitem(last=False)``) and every finding expires after its TTL, so a site that
changes is looked at again. Findings are stored as points, not as an action: each group
compares them with its own threshold. A new host bumps the engine generation (through
``on_new``) so that verdicts remembered by the DNS path are taken again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from filterproxy.classify.policy import Policy
from filterproxy.classify.site import PublicSuffixes
from filterproxy.model import Action, Category, Reason, Verdict

DEFAULT_CAPACITY = 8192
DEFAULT_TTL = 6 * 3600.0
_ACTIONS = {"block": Action.BLOCK, "log": Action.LOG}


@dataclass(frozen=True, slots=True)
class SiteFinding:
    """A page of the site scored over a threshold: the category, its points and the evidence."""

    category: Category
    points: float
    score: float  # calibrated, 0-1
    evidence: tuple[str, ...]  # phrases that weighed most
    source: str  # content/<category>@<phrase list version>
    summary: str  # short human-readable account (the verdict's rule)


class SiteVerdicts:
    """A bounded, expiring map host -> :class:`SiteFinding`; safe to read from any thread."""

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        ttl: float = DEFAULT_TTL,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_new: Callable[[], None] | None = None,
    ) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self.clock = clock
        self.on_new = on_new
        self._entries: OrderedDict[str, tuple[float, SiteFinding]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def configure(self, capacity: int, ttl: float) -> None:
        with self._lock:
            self.capacity, self.ttl = capacity, ttl
            while len(self._entries) > capacity:
                self._entries.popitem(last=False)

    def record(self, host: str, finding: SiteFinding) -> bool:
        """Remember ``finding`` for ``host`` (replacing an older one); True if the host is new."""
        host = host.rstrip(".").lower()
        with self._lock:
            new = self._entries.pop(host, None) is None
            self._entries[host] = (self.clock() + self.ttl, finding)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)  # the oldest finding goes first
        if new and self.on_new is not None:
            self.on_new()
        return new

    def finding(self, host: str) -> SiteFinding | None:
        """The live finding for ``host`` or the nearest parent name that has one."""
        entries = self._entries
        name = host
        while True:
            item = entries.get(name)
            if item is not None:
                if item[0] > self.clock():
                    return item[1]
                self._expire(name, item)
            name = name.partition(".")[2]
            if "." not in name:
                return None  # never a bare TLD

    def forget(self, host: str) -> bool:
        with self._lock:
            return self._entries.pop(host.rstrip(".").lower(), None) is not None

    def decide(self, verdict: Verdict, policy: Policy, suffixes: PublicSuffixes) -> Verdict:
        """An ``unlisted`` verdict, or a ``content`` one when a finding covers the host for this group."""
        found = self.finding(verdict.host)
        if found is None:
            return verdict
        rule = policy.content_rule(verdict.group, found.category)
        action = _ACTIONS.get(rule.action)
        if action is None or found.points < rule.threshold:
            return verdict
        return content_verdict(verdict, found, action, suffixes)

    def _expire(self, name: str, item: tuple[float, SiteFinding]) -> None:
        with self._lock:
            if self._entries.get(name) is item:
                del self._entries[name]


def content_verdict(verdict: Verdict, found: SiteFinding, action: Action, suffixes: PublicSuffixes) -> Verdict:
    """``verdict`` (for the same host and group) turned into a content verdict (``suffixes`` name its site)."""
    return verdict._replace(
        action=action,
        reason=Reason.CONTENT,
        category=found.category,
        source=found.source,
        rule=found.summary,
        site=verdict.site or suffixes.registrable_domain(verdict.host),
        score=found.score,
        evidence=found.evidence,
    )
