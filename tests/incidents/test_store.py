"""The store against real SQLite and real PostgreSQL: folding, references, lifecycle, reports, purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from filterproxy.errors import IncidentNotFound, LifecycleError
from filterproxy.incidents.fold import fold
from filterproxy.incidents.model import IncidentFilter, Status
from filterproxy.incidents.store import IncidentStore
from filterproxy.model import Category

from .conftest import make_event, open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def write(store: IncidentStore, events: list, seq0: int = 0, node: str = "node-a") -> list[int]:  # type: ignore[type-arg]
    batch = list(enumerate(events, start=seq0 + 1))
    groups = fold(
        batch,
        store.window.total_seconds(),
        lambda e: "high" if e.verdict.category is Category.SELFHARM else "low",
        lambda c: "lab-pc-07" if c == "10.0.0.7" else None,
    )
    written = store.write(groups, node, batch[-1][0], batch[-1][0])
    return [i for i, _ in written.new]


def test_repeats_within_window_fold_into_one_incident(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path)
    storm = [make_event(at=T0 + timedelta(seconds=s)) for s in range(0, 500)]
    new = write(store, storm[:250])
    assert len(new) == 1
    assert write(store, storm[250:], 250) == []  # the second batch folds into the stored incident
    incident = store.get(new[0])
    assert incident.count == 500
    assert incident.first_seen == T0 and incident.last_seen == T0 + timedelta(seconds=499)
    assert len(incident.references) == 500
    assert store.by_reference(storm[321].reference).id == incident.id


def test_outside_window_or_other_key_makes_new_incidents(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path, window=60)
    events = [
        make_event(at=T0),
        make_event(at=T0 + timedelta(seconds=61)),  # beyond the window: new
        make_event(client="10.0.0.6", at=T0),  # another client
        make_event(category=Category.ADULT, at=T0),  # another category
        make_event(site="poker.example", at=T0),  # another site
    ]
    assert len(write(store, events)) == 5
    assert len(write(store, [make_event(at=T0 + timedelta(seconds=100))], 5)) == 0  # folds into the 2nd


def test_sites_sharing_a_store_never_fold_together(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path)
    assert len(write(store, [make_event("10.0.0.5", at=T0)], node="school-a")) == 1
    assert len(write(store, [make_event("10.0.0.5", at=T0)], node="school-b")) == 1  # same private address
    assert len(write(store, [make_event("10.0.0.5", at=T0)], 1, node="school-a")) == 0
    assert {i.node: i.count for i in store.query(IncidentFilter())} == {"school-a": 2, "school-b": 1}


def test_incident_keeps_every_field(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path)
    event = make_event(
        "10.0.0.7",
        "harm.example",
        Category.SELFHARM,
        at=T0,
        protocol="https",
        url="https://harm.example/search?q=how+to",
        search_term="how to",
        user="pupil1",
    )
    (incident_id,) = write(store, [event])
    got = store.get(incident_id)
    assert (got.client, got.device, got.user, got.group) == ("10.0.0.7", "lab-pc-07", "pupil1", "pupils")
    assert (got.host, got.site, got.url) == ("www.harm.example", "harm.example", event.url)
    assert (got.category, got.rule, got.source, got.search_term) == (
        "selfharm",
        "harm.example",
        "ut1/selfharm",
        "how to",
    )
    assert (got.protocol, got.method, got.user_agent, got.verdict) == ("https", "GET", "Mozilla/5.0", "block")
    assert (got.severity, got.status, got.reference, got.node) == (
        "high",
        Status.NEW,
        event.reference,
        "node-a",
    )


def test_lifecycle_records_an_audit_trail(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path)
    (incident_id,) = write(store, [make_event(at=T0)])
    store.transition(incident_id, Status.TRIAGED, "ictmgr", "pupil spoken to")
    store.transition(incident_id, Status.REPORTED, "ictmgr", "told the head", action="parents informed")
    with pytest.raises(LifecycleError):
        store.transition(incident_id, Status.TRIAGED, "ictmgr", "back?")
    got = store.transition(incident_id, Status.CLOSED, "head", "done", outcome="no further action")
    assert [(t.from_status, t.to_status, t.by, t.note) for t in got.transitions] == [
        (Status.NEW, Status.TRIAGED, "ictmgr", "pupil spoken to"),
        (Status.TRIAGED, Status.REPORTED, "ictmgr", "told the head"),
        (Status.REPORTED, Status.CLOSED, "head", "done"),
    ]
    assert (got.status, got.action, got.outcome) == (Status.CLOSED, "parents informed", "no further action")
    with pytest.raises(LifecycleError):
        store.transition(incident_id, Status.ESCALATED, "head", "too late")
    with pytest.raises(IncidentNotFound):
        store.transition(999999, Status.TRIAGED, "x", "y")
    # a closed incident does not swallow new repeats
    assert len(write(store, [make_event(at=T0 + timedelta(seconds=5))], 1)) == 1


def test_query_and_report_api(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path)
    march = [make_event(f"10.0.0.{i}", at=T0 + timedelta(minutes=i)) for i in range(3)]
    april = [make_event("10.0.0.9", "harm.example", Category.SELFHARM, at=T0 + timedelta(days=31))]
    ids = write(store, march + april)
    store.transition(ids[0], Status.TRIAGED, "ictmgr", "seen")
    assert [i.id for i in store.query(IncidentFilter(category="selfharm"))] == [ids[3]]
    assert [i.id for i in store.query(IncidentFilter(status=Status.TRIAGED))] == [ids[0]]
    assert [i.id for i in store.query(IncidentFilter(client="10.0.0.1"))] == [ids[1]]
    assert len(store.query(IncidentFilter(since=T0 + timedelta(days=1)))) == 1
    assert len(store.query(IncidentFilter(min_severity="high"))) == 1
    year = (T0 - timedelta(days=60), T0 + timedelta(days=300))
    assert store.counts_by_month(*year) == [("2026-03", "gambling", 3, 3), ("2026-04", "selfharm", 1, 1)]
    assert store.counts_by_status() == {"new": 3, "triaged": 1, "reported": 0, "escalated": 0, "closed": 0}
    assert store.counts_by_status(since=T0 + timedelta(days=1))["new"] == 1
    ((tid, category, seconds),) = store.time_to_triage(*year)
    assert (tid, category) == (ids[0], "gambling") and seconds > 0


def test_purge_removes_client_data_after_retention(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path)
    old, recent = write(
        store,
        [
            make_event("10.0.0.7", at=T0, url="http://bet.example/x?user=amy", search_term="bets", user="amy"),
            make_event("10.0.0.8", at=T0 + timedelta(days=400)),
        ],
    )
    assert store.purge(T0 + timedelta(days=365)) == 1
    got = store.get(old)
    assert (got.client, got.device, got.user, got.search_term, got.user_agent) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert got.url == "http://bet.example/x" and got.purged_at is not None
    assert (got.site, got.category, got.count) == ("bet.example", "gambling", 1)  # statistics stay
    assert store.get(recent).client == "10.0.0.8"
    assert store.purge(T0 + timedelta(days=365)) == 0


def test_migrations_are_applied_once(store_url: str, tmp_path: Path) -> None:
    open_store(store_url, tmp_path).close()
    store = open_store(store_url, tmp_path)  # re-opening finds the schema in place
    assert store.state("node-a").stored_seq == 0
