"""The sequence watermark: reserved ahead of use, fsync'd, exact after a clean stop."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry

from filterproxy.incidents.queue import IncidentQueue
from filterproxy.incidents.settings import IncidentSettings
from filterproxy.incidents.watermark import MIN_BLOCK, Watermark

from .conftest import make_event, open_store


def test_reserves_ahead_of_what_is_handed_out_and_grows_with_the_rate(tmp_path: Path) -> None:
    handed = [1000]
    mark = Watermark(tmp_path / "seq", lambda: handed[0])
    mark.start()
    try:
        assert mark.read() == (1000 + MIN_BLOCK, MIN_BLOCK)
        for _ in range(200):  # 100k numbers/s: the block grows to cover 50 ms of them, twice
            handed[0] += 1000
            mark.wake()
            time.sleep(0.01)
            assert mark.reserved >= handed[0] - 1000 or mark.overrun  # never far behind
        assert mark.block > MIN_BLOCK * 10
        on_disk, block = mark.read()
        assert on_disk >= handed[0] and block == mark.block
    finally:
        mark.stop(handed[0])
    assert mark.read() == (handed[0], 0)  # a clean stop leaves no gap to count


def test_a_queue_that_stopped_cleanly_counts_no_loss_and_numbers_stay_above_the_mark(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'i.db'}"
    settings = IncidentSettings(store=store, flush_interval=0.05, retry_interval=0.2, isolate=False)
    for run in range(2):
        queue = IncidentQueue(settings, tmp_path, CollectorRegistry(), node="n")
        queue.start_sync()
        before = Watermark(tmp_path / "incidents.seq", lambda: 0).read()[0]
        for i in range(50):
            queue.submit(make_event(f"10.0.{run}.{i}"))
        assert queue._seq <= queue.watermark.reserved and queue._seq > before - MIN_BLOCK
        queue.stop_sync()
    state = open_store(store, tmp_path).state("n")
    assert state.lost_total == 0 and state.stored_seq == Watermark(tmp_path / "incidents.seq", lambda: 0).read()[0]


def test_a_crash_counts_the_gap_up_to_the_watermark(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'i.db'}"
    settings = IncidentSettings(store=store, flush_interval=0.05, retry_interval=0.2, isolate=False)
    queue = IncidentQueue(settings, tmp_path, CollectorRegistry(), node="n")
    queue.start_sync()
    for i in range(10):
        queue.submit(make_event(f"10.0.0.{i}"))
    assert queue.flush()
    durable = queue._seq
    queue._stopping.set()  # a crash: the writer stops, nothing is drained, the watermark stays reserved
    queue._wake.set()
    queue.watermark._stop.set()
    reserved = queue.watermark.reserved
    with queue._lock:
        queue._seq += 7  # seven events handed out, never written
    registry = CollectorRegistry()
    again = IncidentQueue(settings, tmp_path, registry, node="n")
    again.start_sync()
    again.stop_sync()
    lost = open_store(store, tmp_path).state("n").lost_total
    assert lost == reserved - durable >= 7  # at least the seven, at most the reserve
    assert registry.get_sample_value("filterproxy_incidents_lost_after_crash_total") == lost
