"""Self-test results as metrics: the newest stored run per group, read when Prometheus scrapes.

The self-test is a separate command (cron, systemd timer, or by hand); the running service
exports what it stored, so a failing or overdue self-test shows on the dashboard and alerts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from filterproxy.selftest.results import Run, latest_per_group, read_runs, results_path


class SelftestCollector(Collector):
    """``filterproxy_selftest_*`` gauges from ``<data_dir>/selftest/results.jsonl`` (re-read on change)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._stamp: tuple[int, int] | None = None
        self._latest: dict[str, Run] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        latest = self._read()
        passed = GaugeMetricFamily("filterproxy_selftest_passed", "1 if the group's last self-test passed.",
                                   labels=["group"])
        at = GaugeMetricFamily("filterproxy_selftest_last_run_seconds", "Time of the group's last self-test "
                               "(Unix seconds).", labels=["group"])
        failures = GaugeMetricFamily("filterproxy_selftest_failures", "Failed probes in the group's last "
                                     "self-test, by kind and path.", labels=["group", "kind", "protocol"])
        for group, run in sorted(latest.items()):
            passed.add_metric([group], 1.0 if run.passed else 0.0)
            at.add_metric([group], run.at.timestamp())
            counts: dict[tuple[str, str], int] = {}
            for probe in run.probes:
                key = (probe.kind, probe.path)
                counts[key] = counts.get(key, 0) + (0 if probe.ok else 1)
            for (kind, path), n in sorted(counts.items()):
                failures.add_metric([group, kind, path], float(n))
        yield from (passed, at, failures)

    def _read(self) -> dict[str, Run]:
        path = results_path(self.data_dir)
        try:
            stat = path.stat()
        except OSError:
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            runs, _ = read_runs(self.data_dir)
            self._latest, self._stamp = dict(latest_per_group(runs)), stamp
        return self._latest


def register_selftest_metrics(registry: CollectorRegistry, data_dir: Path) -> SelftestCollector:
    collector = SelftestCollector(data_dir)
    registry.register(collector)
    return collector
