"""A seeded school year of incidents, audit entries, self-test runs and list files in a real SQLite store."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from filterproxy.incidents.backends import SqliteBackend
from filterproxy.incidents.event import BlockEvent, new_reference
from filterproxy.incidents.fold import fold
from filterproxy.incidents.model import IncidentFilter, Status
from filterproxy.incidents.store import IncidentStore
from filterproxy.model import Action, Category, Reason, Verdict
from filterproxy.selftest.results import ProbeResult, Run, append_run

START = datetime(2025, 9, 1, tzinfo=UTC)
MONTHS = [
    f"{y}-{m:02d}"
    for y, m in [(2025, 9), (2025, 10), (2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 9)]
]


@dataclass
class Seed:
    data_dir: Path
    config: Path
    gambling_per_month: list[int] = field(default_factory=list)  # incidents, each 2 blocked requests
    triage_hours: list[float] = field(default_factory=list)
    false_positive: int = 0


def month_start(index: int) -> datetime:
    year, month = divmod(8 + index, 12)
    return datetime(2025 + year, month + 1, 1, tzinfo=UTC)


def event(
    at: datetime, client: str, category: Category, site: str, action: Action = Action.BLOCK
) -> BlockEvent:
    verdict = Verdict(
        action, Reason.CATEGORY, "pupils", f"www.{site}", category, f"starter/{category.value}", site, site
    )
    return BlockEvent(at, "dns", client, verdict, new_reference(), qtype="A")


def seeded_events() -> tuple[list[BlockEvent], list[int]]:
    events: list[BlockEvent] = []
    gambling = []
    for m in range(12):
        base = month_start(m) + timedelta(days=2, hours=9)
        gambling.append(m % 4 + 1)
        for k in range(m % 4 + 1):  # gambling: 1-4 incidents a month, each two requests a minute apart
            at = base + timedelta(hours=k)
            site = f"bet{k}.example"
            events += [
                event(at, f"10.0.0.{k + 1}", Category.GAMBLING, site),
                event(at + timedelta(minutes=1), f"10.0.0.{k + 1}", Category.GAMBLING, site),
            ]
        for k in range(3):  # adult: three single requests, always the same site
            events.append(
                event(base + timedelta(days=1, hours=k), f"10.0.1.{k + 1}", Category.ADULT, "adult.example")
            )
        events.append(  # traced to a person by RADIUS accounting
            event(base + timedelta(days=3), "10.0.2.1", Category.SELFHARM, "sh.example", Action.LOG)._replace(
                user=f"pupil{m}", identified_by="radius", identified_at=base)
        )
    # outside the period: must not be counted
    events.append(event(START - timedelta(days=3), "10.0.9.1", Category.GAMBLING, "early.example"))
    events.append(event(START + timedelta(days=366), "10.0.9.2", Category.GAMBLING, "late.example"))
    return events, gambling


def seed_store(db: Path) -> tuple[list[float], int, list[int]]:
    events, gambling = seeded_events()
    store = IncidentStore(SqliteBackend(db), window=600)
    store.open()
    groups = fold(
        list(enumerate(events)),
        600,
        lambda e: "high" if e.verdict.category is Category.SELFHARM else "low",
        lambda c: None,
    )
    store.write(groups, "node1", len(events), len(events))
    incidents = sorted(store.query(IncidentFilter(category="gambling")), key=lambda i: i.first_seen)
    incidents = [i for i in incidents if START <= i.first_seen < START + timedelta(days=365)]
    hours = []
    for n, incident in enumerate(incidents[:10]):  # triage the first ten gambling incidents after n+1 hours
        store.transition(incident.id, Status.TRIAGED, "ict.manager", "looked at it")
        hours.append(float(n + 1))
    false_positive = 0
    for incident in incidents[:3]:
        store.transition(incident.id, Status.CLOSED, "dsl", "not harmful", outcome="false_positive")
        false_positive += 1
    store.close()
    conn = sqlite3.connect(db)  # the store stamps transitions "now": move them to known times for the seed
    for incident, h in zip(incidents[:10], hours, strict=True):
        triaged = incident.first_seen + timedelta(hours=h)
        conn.execute(
            "UPDATE transitions SET at = ? WHERE incident_id = ?",
            (triaged.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), incident.id),
        )
    conn.commit()
    conn.close()
    return hours, false_positive, gambling


AUDIT = [
    {
        "at": "2025-09-10T10:00:00+00:00",
        "user": "ict.manager",
        "action": "add",
        "category": "gambling",
        "entries": ["bet-new.example", "bet-two.example"],
        "reason": "found in incident review",
    },
    {
        "at": "2025-11-02T12:00:00+00:00",
        "user": "ict.manager",
        "action": "allow",
        "category": None,
        "entries": ["history.example", "art.example", "science.example"],
        "reason": "teacher request: <b>lesson</b>",
    },
    {
        "at": "2026-02-14T08:30:00+00:00",
        "user": "dsl",
        "action": "allow",
        "category": None,
        "entries": ["charity.example"],
        "reason": "review request from pupil",
    },
    {
        "at": "2026-03-01T09:00:00+00:00",
        "user": "ict.manager",
        "action": "refused",
        "category": "illegal",
        "entries": ["iwf.example"],
        "reason": "listed by an illegal feed",
    },
    {
        "at": "2026-05-20T15:00:00+00:00",
        "user": "ict.manager",
        "action": "unallow",
        "category": None,
        "entries": ["art.example"],
        "reason": "no longer needed",
    },
    {
        "at": "2024-05-20T15:00:00+00:00",
        "user": "old",
        "action": "add",
        "category": "adult",
        "entries": ["outside.example"],
        "reason": "before the period",
    },
]


def write_audit(path: Path) -> None:
    lines = [json.dumps(r) for r in AUDIT]
    lines.insert(2, "{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_selftests(data_dir: Path) -> None:
    ok = ProbeResult(
        "category", "gambling", "gambling.filterproxy-selftest.example", "dns", "blocked", "blocked"
    )
    bad = ProbeResult("category", "adult", "adult.filterproxy-selftest.example", "dns", "blocked", "allowed")
    edu = ProbeResult("educational", None, "www.bbc.co.uk", "dns", "allowed", "allowed")
    for day, group, probes in [
        (10, "pupils", (ok, edu)),
        (40, "pupils", (bad, edu)),
        (200, "pupils", (ok, edu)),
        (201, "staff", (ok, bad)),
    ]:
        append_run(data_dir, Run(group, START + timedelta(days=day), probes))


def write_lists(root: Path) -> Path:
    fresh = root / "gambling.txt"
    fresh.write_text("# header\nbet.example\ncasino.example\n\npoker.example\n", encoding="utf-8")
    stale = root / "adult.txt.gz"
    stale.write_bytes(gzip.compress(b"a.example\nb.example\n"))
    old = time.time() - 30 * 86400
    os.utime(stale, (old, old))
    sources = root / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - {id: starter/gambling, category: gambling, path: gambling.txt, licence: CC0-1.0}\n"
        "  - {id: ut1/adult, category: adult, path: adult.txt.gz, licence: CC BY-SA 4.0,"
        " attribution: 'UT1 blacklists, Universite Toulouse 1 Capitole'}\n",
        encoding="utf-8",
    )
    return sources


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    root = tmp_path_factory.mktemp("review")
    data_dir = root / "var"
    data_dir.mkdir()
    hours, false_positive, gambling = seed_store(data_dir / "incidents.db")
    write_audit(data_dir / "audit.jsonl")
    write_selftests(data_dir)
    sources = write_lists(root)
    config = root / "filterproxy.yaml"
    config.write_text(
        f"data_dir: var\nlists:\n  sources_file: {sources.name}\nblock:\n  school_name: Test Academy\n",
        encoding="utf-8",
    )
    return Seed(data_dir, config, gambling, hours, false_positive)
