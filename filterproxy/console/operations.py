"""The console's blocking work: the same library calls the CLI makes, run in the console's thread pool.

Every function here is synchronous and may touch disk or a database; the routes call them through
:meth:`filterproxy.console.state.ConsoleState.run`, never on an event loop.
"""

from __future__ import annotations

import contextlib
import ipaddress
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from filterproxy.classify.classifier import Classifier
from filterproxy.classify.normalise import split_url
from filterproxy.config.model import Config
from filterproxy.errors import ConfigError, FilterproxyError
from filterproxy.incidents.model import Incident, IncidentFilter, Status
from filterproxy.incidents.store import IncidentStore, open_store
from filterproxy.incidents.who import age, person, who
from filterproxy.lists.explain import explain, source_line
from filterproxy.lists.loader import load_classifier, local_files, resolve_sources
from filterproxy.lists.local import read_names
from filterproxy.lists.overrides import read_overrides
from filterproxy.model import Category, Query
from filterproxy.selftest.results import Run, read_runs

WHO_FIELDS = ("device", "client", "user")
OPEN_STATUSES = (Status.NEW, Status.TRIAGED, Status.REPORTED, Status.ESCALATED)
SCAN_LIMIT = 20_000  # incidents read to match the filters the store cannot apply


@contextlib.contextmanager
def incident_store(config: Config) -> Iterator[IncidentStore]:
    store = open_store(config.incidents, config.data_dir)
    try:
        yield store
    finally:
        store.close()


@dataclass(frozen=True, slots=True)
class IncidentQuery:
    """The incident queue's filters (the store filters status, category, date, client; the rest here)."""

    status: str = ""
    category: str = ""
    severity: str = ""
    group: str = ""
    who: str = ""
    since: str = ""  # YYYY-MM-DD
    user: str = ""  # the person identified (exact, case-insensitive; the store filters it)
    limit: int = 200

    def matches(self, incident: Incident) -> bool:
        if self.status == "open" and incident.status is Status.CLOSED:
            return False
        if self.severity and incident.severity != self.severity:
            return False
        if self.group and incident.group != self.group:
            return False
        if self.who:
            needle = self.who.lower()
            return any(needle in (getattr(incident, f) or "").lower() for f in WHO_FIELDS)
        return True


def query_incidents(config: Config, q: IncidentQuery) -> list[Incident]:
    """Newest first; severity, group and who are matched here over at most SCAN_LIMIT newest incidents."""
    since = None
    if q.since:
        try:
            since = datetime.fromisoformat(q.since).replace(tzinfo=UTC)
        except ValueError:
            raise ConfigError(f"not a date: {q.since!r} (use YYYY-MM-DD)") from None
    here = bool(q.severity or q.group or q.who)
    statuses: list[Status | None] = (
        list(OPEN_STATUSES) if q.status == "open" else [Status(q.status) if q.status in set(Status) else None]
    )
    found: list[Incident] = []
    with incident_store(config) as store:
        for status in statuses:
            flt = IncidentFilter(status=status, category=q.category or None, since=since, user=q.user or None,
                                 limit=SCAN_LIMIT if here else q.limit)
            found.extend(store.query(flt))
    found.sort(key=lambda i: (i.last_seen, i.id), reverse=True)
    return [i for i in found if q.matches(i)][: q.limit]


def person_fields(incident: Incident) -> dict[str, Any]:
    """The person behind an incident in words, for the JSON API (beside ``user``, ``identified_*``):
    ``person`` is ``p.smith (radius, 5 min before)`` and ``who`` adds the device and address."""
    return {"person": person(incident), "who": who(incident),
            "identified_age": age(incident.identified_at, incident.first_seen)}


def newest_waiting(config: Config, limit: int = 5) -> list[Incident]:
    """The newest incidents waiting for triage (the dashboard lists them for those who may see them)."""
    with incident_store(config) as store:
        return store.query(IncidentFilter(status=Status.NEW, limit=limit))


def get_incident(config: Config, incident_id: int) -> Incident:
    with incident_store(config) as store:
        return store.get(incident_id)


def move_incident(config: Config, incident_id: int, target: Status, by: str, note: str,
                  action: str | None, outcome: str | None) -> Incident:
    if not note.strip():
        raise ConfigError("a note is required: say why (it is kept in the incident's history)")
    if target is Status.CLOSED and not (action or "").strip():
        raise ConfigError("closing needs the action taken (what was done)")
    with incident_store(config) as store:
        return store.transition(incident_id, target, by, note.strip(), action=(action or "").strip() or None,
                                outcome=(outcome or "").strip() or None)


def dashboard(config: Config) -> dict[str, Any]:
    """Blocks today and this week by category and group, incidents waiting, lists' health, the last self-test."""
    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo(config.policy.timezone))  # the school's day, not UTC's
    today = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    week = today - timedelta(days=local.weekday())
    with incident_store(config) as store:
        recent = store.query(IncidentFilter(since=week))
        waiting = store.counts_by_status()
    return {
        "today": _tally(recent, today), "week": _tally(recent, week), "waiting": waiting,
        "sources": sources_state(config), "selftest": last_selftests(config), "now": now,
    }


def _tally(incidents: list[Incident], since: datetime) -> dict[str, Any]:
    by_category: dict[str, int] = {}
    by_group: dict[str, int] = {}
    total = 0
    for i in incidents:
        if i.last_seen < since or i.verdict != "block":
            continue
        # an incident seen before and after ``since`` counts whole: counts are per incident window
        total += i.count
        by_category[i.category or i.reason] = by_category.get(i.category or i.reason, 0) + i.count
        by_group[i.group or "-"] = by_group.get(i.group or "-", 0) + i.count
    order = sorted(by_category.items(), key=lambda kv: -kv[1])
    return {"total": total, "by_category": order, "by_group": sorted(by_group.items(), key=lambda kv: -kv[1])}


def sources_state(config: Config) -> list[dict[str, Any]]:
    from filterproxy.lists.loader import load_index

    now = time.time()
    try:
        built = {s.id: s for s in load_index(config).sources}
    except FilterproxyError as exc:
        return [{"id": "(index)", "errors": [str(exc)], "enabled": True}]
    rows = []
    try:
        overrides = read_overrides(config.data_dir)
    except FilterproxyError as exc:
        return [{"id": "(overrides)", "errors": [str(exc)], "enabled": True}]
    for source in resolve_sources(config):
        s = built.get(source.id)
        rows.append({
            "id": source.id, "category": source.category.value, "enabled": source.enabled,
            "overridden": source.id in overrides, "url": source.url,
            "licence": source.licence, "entries": s.entries if s else None, "bad_lines": s.bad_lines if s else None,
            "age_days": round((now - s.mtime) / 86400, 1) if s and s.mtime else None,
            "errors": list(s.errors) if s else ([] if not source.enabled else ["not in the live index"]),
        })
    return rows


def last_selftests(config: Config) -> list[Run]:
    runs, _ = read_runs(config.data_dir)
    latest: dict[str, Run] = {}
    for run in runs:
        latest[run.group] = run
    return sorted(latest.values(), key=lambda r: r.group)


def check_site(config: Config, classifier: Classifier | None, name: str, client: str) -> dict[str, Any]:
    name = name.strip()
    if not name:
        raise ConfigError("give a site: a domain, host/path or URL")
    try:
        address = ipaddress.ip_address(client.strip() or "192.0.2.1")
    except ValueError:
        raise ConfigError(f"not an IP address: {client!r}") from None
    classifier = classifier or load_classifier(config)
    host, path = split_url(name) if "/" in name else (name, None)
    try:
        verdict = classifier.classify(Query(address, host, datetime.now(UTC), path if path != "/" else None))
    except ValueError as exc:
        raise ConfigError(f"{name!r}: {exc}") from None
    sources = {s.id: s for s in resolve_sources(config)}
    line = source_line(sources.get(verdict.source or ""), verdict.rule) if verdict.rule else None
    return explain(name, verdict, line)


def local_lists(config: Config) -> dict[str, list[str]]:
    files = local_files(config)
    lists = {"allow": read_names(files.allow_file)}
    for category in Category:
        names = read_names(files.deny_file(category))
        if names:
            lists[category.value] = names
    return lists
