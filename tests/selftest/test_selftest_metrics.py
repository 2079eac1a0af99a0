from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from filterproxy.selftest.metrics import register_selftest_metrics
from filterproxy.selftest.results import ProbeResult, Run, append_run, results_path


def test_latest_run_per_group_and_unreadable_lines(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    register_selftest_metrics(registry, tmp_path)
    assert registry.get_sample_value("filterproxy_selftest_passed", {"group": "pupils"}) is None
    ok = ProbeResult("category", "adult", "adult.filterproxy-selftest.example", "dns", "blocked", "blocked")
    over = ProbeResult("educational", None, "www.bbc.co.uk", "http", "allowed", "blocked")
    append_run(tmp_path, Run("pupils", datetime(2026, 1, 1, tzinfo=UTC), (ok, over)))
    with results_path(tmp_path).open("a") as out:
        out.write("{truncated\n")
    append_run(tmp_path, Run("staff", datetime(2026, 1, 2, tzinfo=UTC), (ok,)))
    get = registry.get_sample_value
    assert get("filterproxy_selftest_passed", {"group": "pupils"}) == 0.0
    assert get("filterproxy_selftest_passed", {"group": "staff"}) == 1.0
    assert get("filterproxy_selftest_failures", {"group": "pupils", "kind": "educational", "protocol": "http"}) == 1
    assert (
        get("filterproxy_selftest_last_run_seconds", {"group": "staff"}) == datetime(2026, 1, 2, tzinfo=UTC).timestamp()
    )
    append_run(tmp_path, Run("pupils", datetime(2026, 1, 3, tzinfo=UTC), (ok,)))  # re-read on change
    assert get("filterproxy_selftest_passed", {"group": "pupils"}) == 1.0
