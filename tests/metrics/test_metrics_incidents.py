from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from filterproxy.errors import StoreUnavailable
from filterproxy.incidents.backends import SqliteBackend
from filterproxy.incidents.event import BlockEvent, new_reference
from filterproxy.incidents.fold import fold
from filterproxy.incidents.model import IncidentFilter, Status
from filterproxy.incidents.store import IncidentStore
from filterproxy.metrics.incidents import IncidentStatusCollector, register_incident_status
from filterproxy.model import Action, Category, Reason, Verdict


def seed(db: Path, sites: list[str]) -> IncidentStore:
    store = IncidentStore(SqliteBackend(db))
    store.open()
    now = datetime.now(UTC) - timedelta(hours=1)
    events = [
        BlockEvent(
            now,
            "dns",
            "10.0.0.1",
            Verdict(Action.BLOCK, Reason.CATEGORY, "pupils", s, Category.GAMBLING, "starter/gambling", s, s),
            new_reference(),
        )
        for s in sites
    ]
    store.write(fold(list(enumerate(events)), 600, lambda e: "low", lambda c: None), "n", len(events), len(events))
    return store


def test_counts_per_status_from_a_real_store(tmp_path: Path) -> None:
    writer = seed(tmp_path / "i.db", ["a.example", "b.example", "c.example"])
    first = writer.query(IncidentFilter())[0]
    writer.transition(first.id, Status.TRIAGED, "ict", "seen")
    registry = CollectorRegistry()
    register_incident_status(registry, IncidentStore(SqliteBackend(tmp_path / "i.db")))  # its own connection
    value = lambda s: registry.get_sample_value("filterproxy_incidents_by_status", {"status": s})  # noqa: E731
    assert (value("new"), value("triaged"), value("closed")) == (2.0, 1.0, 0.0)


def test_cached_between_refreshes_and_retried_soon_after_a_failure() -> None:
    calls: list[int] = []
    now = [0.0]
    answers: list[object] = [StoreUnavailable("down"), {"new": 4}, {"new": 5}]

    def counts() -> dict[str, int]:
        calls.append(1)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, dict)
        return answer

    registry = CollectorRegistry()
    registry.register(IncidentStatusCollector(counts, max_age=60, clock=lambda: now[0]))
    get = lambda: registry.get_sample_value("filterproxy_incidents_by_status", {"status": "new"})  # noqa: E731
    assert get() is None  # store down: no figure rather than a false zero
    now[0] = 6.0
    assert get() == 4.0
    now[0] = 30.0
    assert get() == 4.0 and len(calls) == 2  # cached
    now[0] = 67.0
    assert get() == 5.0
