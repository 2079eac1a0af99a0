"""The review queue: automatic verdicts (reason model or content) waiting for the ICT manager.

Derived, not stored: the queue is the incidents whose reason is ``model`` or ``content``, grouped
by site, minus the sites the school's own lists already decide. Confirming adds the site to the
school's deny list, rejecting adds it to the allow list; both go through the audited local-list
path (``lists/editing``) with the reviewer's reason, so the annual review can count them. These
are library calls: the CLI uses them now, a web console can later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from filterproxy.config.model import Config
from filterproxy.errors import ConfigError
from filterproxy.incidents.model import Incident, IncidentFilter
from filterproxy.incidents.store import open_store
from filterproxy.lists.editing import edit
from filterproxy.lists.loader import local_files
from filterproxy.lists.local import load_local
from filterproxy.model import Category, Reason

AUTOMATIC = (Reason.MODEL.value, Reason.CONTENT.value)
CONFIRMED = "review queue: automatic verdict confirmed"
REJECTED = "review queue: automatic verdict rejected"
SCAN_LIMIT = 100_000


@dataclass
class QueueItem:
    """One site waiting for a decision, with what the automatic verdicts said about it."""

    site: str
    category: str | None
    reason: str  # model or content
    verdict: str  # block or log (the strictest seen)
    incidents: int = 0
    events: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    hosts: list[str] = field(default_factory=list)
    evidence: str | None = None  # the latest verdict's rule: score and evidence
    source: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "site": self.site, "category": self.category, "reason": self.reason, "verdict": self.verdict,
            "incidents": self.incidents, "events": self.events,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "hosts": self.hosts, "evidence": self.evidence, "source": self.source,
        }


def group_queue(incidents: Iterable[Incident], decided: set[str] | None = None) -> list[QueueItem]:
    """Automatic-verdict incidents grouped by site (newest first in, so the latest evidence wins)."""
    items: dict[str, QueueItem] = {}
    for incident in incidents:
        if incident.reason not in AUTOMATIC:
            continue
        site = incident.site or incident.host
        if decided is not None and site in decided:
            continue
        item = items.get(site)
        if item is None:
            item = items[site] = QueueItem(site, incident.category, incident.reason, incident.verdict,
                                           evidence=incident.rule, source=incident.source)
        item.incidents += 1
        item.events += incident.count
        if incident.verdict == "block":
            item.verdict = "block"
        if incident.host not in item.hosts and len(item.hosts) < 5:
            item.hosts.append(incident.host)
        item.first_seen = min(filter(None, (item.first_seen, incident.first_seen)))
        item.last_seen = max(filter(None, (item.last_seen, incident.last_seen)))
    return sorted(items.values(), key=lambda i: (i.verdict != "block", -i.events, i.site))


def review_queue(config: Config, since: datetime | None = None) -> list[QueueItem]:
    """The sites with automatic verdicts that the school's lists do not decide yet."""
    store = open_store(config.incidents, config.data_dir)
    try:
        incidents = store.query(IncidentFilter(since=since, limit=SCAN_LIMIT))
    finally:
        store.close()
    local = load_local(local_files(config))
    queue = group_queue(incidents)
    return [item for item in queue if local.allowed(item.site) is None and local.denied(item.site) is None]


def confirm(config: Config, site: str, reason: str, category: Category | None = None,
            user: str | None = None) -> list[str]:
    """The automatic verdict was right: the site joins the school's deny list (audited as ``user``,
    default the OS user)."""
    chosen = category or _category_of(config, site)
    return edit(config, "add", [site], reason, chosen, detail=CONFIRMED, user=user)


def reject(config: Config, site: str, reason: str, user: str | None = None) -> list[str]:
    """The automatic verdict was wrong: the site joins the school's allow list (audited as ``user``)."""
    return edit(config, "allow", [site], reason, None, detail=REJECTED, user=user)


def _category_of(config: Config, site: str) -> Category:
    for item in review_queue(config):
        if item.site == site and item.category:
            return Category(item.category)
    raise ConfigError(f"{site}: not in the review queue; give --category to confirm it anyway")
