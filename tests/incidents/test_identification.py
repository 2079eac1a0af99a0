"""Who an incident names and how we knew: RADIUS / proxy auth from the producer, inventory and DHCP
from the writer; stored in SQLite and PostgreSQL (migration 2), shown with its age, in alerts too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from filterproxy.incidents.alerts import alert_of
from filterproxy.incidents.fold import dedup_key, fold
from filterproxy.incidents.model import Incident, IncidentFilter
from filterproxy.incidents.queue import IncidentQueue
from filterproxy.incidents.settings import DeviceSettings, IncidentSettings
from filterproxy.incidents.who import age, who

from .conftest import make_event, open_store

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_sources_of_identification_are_stored(store_url: str, tmp_path: Path) -> None:
    (tmp_path / "inv.csv").write_text("10.0.0.6,staff-laptop-2,jsmith\n")
    (tmp_path / "leases").write_text("1700000000 aa:bb:cc:dd:ee:ff 10.0.0.7 ipad-7 *\n")
    settings = IncidentSettings(store=store_url, flush_interval=0.05, dedup_window=0,
                                devices=DeviceSettings(inventory_csv=Path("inv.csv"), leases_files=[Path("leases")]))
    queue = IncidentQueue(settings, tmp_path, CollectorRegistry(), node="n1")
    queue.start_sync()
    radius = make_event("10.0.0.5", "bet.example", at=T0, user="p.smith")
    queue.submit(radius._replace(identified_by="radius", identified_at=T0 - timedelta(minutes=7)))
    queue.submit(make_event("10.0.0.6", "bet.example", at=T0))
    queue.submit(make_event("10.0.0.7", "bet.example", at=T0))
    queue.submit(make_event("10.0.0.8", "bet.example", at=T0))
    queue.stop_sync()
    store = open_store(store_url, tmp_path)
    try:
        found = {i.client: i for i in store.query(IncidentFilter())}
        named = store.query(IncidentFilter(user="P.SMITH"))
    finally:
        store.close()
    assert [(i.client, i.user) for i in named] == [("10.0.0.5", "p.smith")]
    rows = {c: (i.user, i.identified_by, i.device) for c, i in found.items()}
    assert rows == {"10.0.0.5": ("p.smith", "radius", None), "10.0.0.6": ("jsmith", "inventory", "staff-laptop-2"),
                    "10.0.0.7": (None, "dhcp", "ipad-7"), "10.0.0.8": (None, None, None)}
    assert found["10.0.0.5"].identified_at == T0 - timedelta(minutes=7)
    assert who(found["10.0.0.5"]) == "p.smith (radius, 7 min before) 10.0.0.5"
    assert who(found["10.0.0.7"]) == "ipad-7 (dhcp) 10.0.0.7"
    assert who(found["10.0.0.6"]) == "jsmith (inventory) staff-laptop-2 10.0.0.6"


def test_age_and_purged() -> None:
    assert [age(T0 - timedelta(seconds=s), T0) for s in (5, 61, 7200, 90000)] == ["5 s", "1 min", "2 h", "1 d"]
    assert age(None, T0) is None
    assert who(Incident(id=1)) == "(purged)"


def test_another_person_at_the_same_address_is_another_incident() -> None:
    first = make_event("10.0.0.5", "bet.example", at=T0, user="p.smith")
    second = make_event("10.0.0.5", "bet.example", at=T0 + timedelta(seconds=5), user="a.jones")
    anonymous = make_event("10.0.0.5", "bet.example", at=T0 + timedelta(seconds=6))
    assert len({dedup_key(first), dedup_key(second), dedup_key(anonymous)}) == 3
    groups = fold([(1, first), (2, second), (3, anonymous)], 600, lambda e: "low", lambda c: None)
    assert [g.event.user for g in groups] == ["p.smith", "a.jones", None]


def test_alerts_carry_the_source_and_age() -> None:
    event = make_event("10.0.0.5", "bet.example", at=T0, user="p.smith")
    event = event._replace(identified_by="proxy_auth", identified_at=T0 - timedelta(seconds=30))
    group = fold([(1, event)], 600, lambda e: "high", lambda c: None)[0]
    alert = alert_of(7, group, "n1")
    assert (alert["user"], alert["identified_by"], alert["identified_age"]) == ("p.smith", "proxy_auth", "30 s")
