from __future__ import annotations

from prometheus_client import CollectorRegistry

from filterproxy.metrics.lists import ListMetrics, SourceStats
from filterproxy.metrics.registry import new_registry


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_observe_sets_per_source_values_and_drops_removed_sources() -> None:
    registry = new_registry(process=False)
    metrics = ListMetrics(registry)
    metrics.observe(
        [
            SourceStats("ut1/gambling", "gambling", 1200, 3, 1_700_000_000.0),
            SourceStats("starter/adult", "adult", 40, 0, 1_700_000_100.0),
        ],
        at=1_700_000_500.0,
    )
    assert value(registry, "filterproxy_lists_entries", category="gambling", source="ut1/gambling") == 1200
    assert value(registry, "filterproxy_lists_bad_lines", category="gambling", source="ut1/gambling") == 3
    adult = {"category": "adult", "source": "starter/adult"}
    mtime = value(registry, "filterproxy_lists_source_mtime_seconds", **adult)
    assert mtime == 1_700_000_100.0
    assert value(registry, "filterproxy_lists_last_reload_seconds") == 1_700_000_500.0
    assert value(registry, "filterproxy_lists_reloads_total", result="ok") == 1
    assert value(registry, "filterproxy_lists_reloads_total", result="failed") == 0

    metrics.observe([SourceStats("starter/adult", "adult", 41, 1, 1_700_000_200.0)])
    assert value(registry, "filterproxy_lists_entries", category="gambling", source="ut1/gambling") is None
    assert value(registry, "filterproxy_lists_entries", category="adult", source="starter/adult") == 41
    assert value(registry, "filterproxy_lists_reloads_total", result="ok") == 2


def test_failed_reload_counts_and_keeps_last_success() -> None:
    registry = new_registry(process=False)
    metrics = ListMetrics(registry)
    metrics.observe([SourceStats("local/deny", "adult", 2, 0, 1.0)], at=100.0)
    metrics.failed(at=200.0)
    assert value(registry, "filterproxy_lists_reloads_total", result="failed") == 1
    assert value(registry, "filterproxy_lists_last_failure_seconds") == 200.0
    assert value(registry, "filterproxy_lists_last_reload_seconds") == 100.0
