"""The queue end to end on real stores: batching, dedup, overflow, spool and replay, restarts."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.incidents.event import BlockEvent
from filterproxy.incidents.model import IncidentFilter
from filterproxy.incidents.queue import IncidentQueue
from filterproxy.incidents.settings import DeviceSettings, IncidentSettings
from filterproxy.model import Category

from .conftest import Postgres, all_refs, make_event, open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def settings(store: str, **overrides: object) -> IncidentSettings:
    base: dict[str, object] = {"store": store, "flush_interval": 0.05, "retry_interval": 0.2}
    return IncidentSettings.model_validate({**base, **overrides})


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(f"filterproxy_incidents_{name}", labels) or 0.0


def test_queue_writes_folds_and_counts(store_url: str, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    queue = IncidentQueue(settings(store_url), tmp_path, registry, node="n1")

    async def run() -> None:
        await queue.start()
        for i in range(300):  # a retry storm from one client, and 10 other clients
            queue.submit(make_event(at=T0 + timedelta(seconds=i)))
        for n in range(10):
            queue.submit(make_event(f"10.0.1.{n}", "harm.example", Category.SELFHARM, at=T0, protocol="https"))
        await asyncio.to_thread(queue.flush)
        await queue.stop()

    asyncio.run(run())
    store = open_store(store_url, tmp_path)
    incidents = store.query(IncidentFilter())
    assert sorted(i.count for i in incidents) == [1] * 10 + [300]
    assert {i.severity for i in incidents if i.category == "selfharm"} == {"high"}
    assert metric(registry, "events_received_total", protocol="dns") == 300
    assert metric(registry, "events_received_total", protocol="https") == 10
    assert metric(registry, "written_total") == 11
    assert metric(registry, "folded_total") == 299
    assert metric(registry, "queue_depth") == 0
    assert store.state("n1").lost_total == 0


def test_overflow_is_counted_never_silent(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    queue = IncidentQueue(settings(f"sqlite:{tmp_path / 'i.db'}", queue_size=100), tmp_path, registry, node="n1")
    for i in range(150):  # the writer is not started: the bound holds
        queue.submit(make_event(f"10.0.0.{i % 250}", at=T0))
    assert queue.dropped == 50
    assert metric(registry, "dropped_total", reason="overflow") == 50
    queue.start_sync()
    queue.stop_sync()
    store = open_store(f"sqlite:{tmp_path / 'i.db'}", tmp_path)
    assert len(store.query(IncidentFilter())) == 100
    assert store.state("n1").dropped_total == 50


def test_submit_from_many_threads(tmp_path: Path) -> None:
    queue = IncidentQueue(settings(f"sqlite:{tmp_path / 'i.db'}"), tmp_path, CollectorRegistry(), node="n1")
    queue.start_sync()
    events = [[make_event(f"10.1.{t}.{i}", at=T0) for i in range(200)] for t in range(4)]
    threads = [threading.Thread(target=lambda es=es: [queue.submit(e) for e in es]) for es in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.stop_sync()
    assert len(all_refs(open_store(f"sqlite:{tmp_path / 'i.db'}", tmp_path))) == 800


def test_store_down_spools_and_replays(tmp_path: Path) -> None:
    blocker = tmp_path / "db"
    blocker.write_text("a file where the store directory should be")  # the store cannot open
    url = f"sqlite:{blocker / 'incidents.db'}"
    registry = CollectorRegistry()
    queue = IncidentQueue(settings(url), tmp_path, registry, node="n1")
    queue.start_sync()
    events = [make_event(f"10.0.0.{i}", at=T0) for i in range(50)]
    for event in events:
        queue.submit(event)
    assert queue.flush()
    assert not queue.store_up
    assert queue.spool.pending == 50 and queue.spool.size() > 0
    assert metric(registry, "store_errors_total") >= 1
    blocker.unlink()  # the "disk" is back
    deadline = time.monotonic() + 10
    while queue.spool.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    queue.stop_sync()
    assert {e.reference for e in events} == all_refs(open_store(url, tmp_path))
    assert not queue.spool.path.exists()
    assert metric(registry, "spool_events") == 0


def test_device_names_from_leases_and_inventory(tmp_path: Path) -> None:
    (tmp_path / "dnsmasq.leases").write_text("1767225600 aa:bb:cc:dd:ee:01 10.0.0.5 lab-pc-05 *\n")
    (tmp_path / "inventory.csv").write_text("ip,device,user\n10.0.0.6,staff-laptop-2,jsmith\n")
    devices = DeviceSettings(leases_files=[Path("dnsmasq.leases")], inventory_csv=Path("inventory.csv"))
    url = f"sqlite:{tmp_path / 'i.db'}"
    queue = IncidentQueue(settings(url, devices=devices), tmp_path, CollectorRegistry(), node="n1")
    queue.start_sync()
    for client in ("10.0.0.5", "10.0.0.6", "10.0.0.7"):
        queue.submit(make_event(client, at=T0))
    queue.stop_sync()
    got = {i.client: (i.device, i.user) for i in open_store(url, tmp_path).query(IncidentFilter())}
    assert got == {
        "10.0.0.5": ("lab-pc-05", None),
        "10.0.0.6": ("staff-laptop-2", "jsmith"),
        "10.0.0.7": (None, None),
    }


@pytest.mark.slow
def test_postgresql_restart_mid_stream_loses_nothing(postgres: Postgres, tmp_path: Path) -> None:
    url = postgres.create_db()
    registry = CollectorRegistry()
    queue = IncidentQueue(settings(url), tmp_path, registry, node="n1")
    queue.start_sync()
    sent: list[BlockEvent] = []

    def produce(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(20):
                event = make_event(f"10.2.{len(sent) % 200}.{len(sent) // 200 % 250}", at=datetime.now(UTC))
                sent.append(event)
                queue.submit(event)
            time.sleep(0.01)

    try:
        produce(0.5)
        postgres.kill()  # crash: connections die mid-transaction
        produce(1.0)
        assert not queue.store_up
        assert queue.spool.pending > 0  # the outage went to the spool
        postgres.start()
        produce(1.0)
    finally:
        if postgres.proc is None:
            postgres.start()
    deadline = time.monotonic() + 15
    while (queue.spool.pending or not queue.store_up) and time.monotonic() < deadline:
        time.sleep(0.05)
    queue.stop_sync()
    stored = all_refs(open_store(url, tmp_path))
    assert {e.reference for e in sent} == stored
    assert metric(registry, "store_errors_total") >= 1
    assert open_store(url, tmp_path).state("n1").lost_total == 0
