"""Each remote list source's download state as metrics, read from the state file when Prometheus scrapes.

Downloads run in a worker thread (or in a separate ``lists update``); the state file is what they
write, so reading it at scrape time shows a download in progress and one run by hand alike. Labels
are the configured source id and the bounded state name; the error text stays in ``lists stats``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from filterproxy.errors import FilterproxyError
from filterproxy.lists.settings import SourceSettings
from filterproxy.lists.state import STATUSES, SourceState, read_states
from filterproxy.metrics.registry import check_labels, check_name

NAMES = ("filterproxy_lists_source_state", "filterproxy_lists_source_checked_seconds",
         "filterproxy_lists_source_age_seconds", "filterproxy_lists_source_downloaded_entries",
         "filterproxy_lists_source_last_failure_seconds")


class ListStateCollector(Collector):
    """``filterproxy_lists_source_*`` gauges of the enabled remote sources."""

    def __init__(self, sources: Callable[[], list[SourceSettings]], directory: Path) -> None:
        self._sources = sources
        self._directory = directory
        for name in NAMES:
            check_name(name)
        check_labels(("source", "state"))

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = GaugeMetricFamily(NAMES[0], "1 for the download state each remote source is in "
                                  "(never, fetching, ok, failed), 0 for the others.", labels=["source", "state"])
        checked = GaugeMetricFamily(NAMES[1], "When the source's copy was last confirmed current, downloaded "
                                    "or not modified (Unix seconds).", labels=["source"])
        age = GaugeMetricFamily(NAMES[2], "Seconds since the source's copy was last confirmed current.",
                                labels=["source"])
        entries = GaugeMetricFamily(NAMES[3], "Entries of the source's copy when it was downloaded.",
                                    labels=["source"])
        failure = GaugeMetricFamily(NAMES[4], "When a download of the source last failed (Unix seconds); "
                                    "`filterproxy lists stats` gives the error.", labels=["source"])
        now = time.time()
        for source_state in self._states():
            sid = source_state.source_id
            for name in STATUSES:
                state.add_metric([sid, name], 1.0 if source_state.status == name else 0.0)
            if source_state.checked_at is not None:
                checked.add_metric([sid], source_state.checked_at)
                age.add_metric([sid], max(0.0, now - source_state.checked_at))
            if source_state.entries is not None:
                entries.add_metric([sid], float(source_state.entries))
            if source_state.failed_at is not None:
                failure.add_metric([sid], source_state.failed_at)
        yield from (state, checked, age, entries, failure)

    def _states(self) -> list[SourceState]:
        try:
            sources = self._sources()
        except FilterproxyError:  # a broken sources file: the reload says so; nothing to export meanwhile
            return []
        return list(read_states(self._directory, sources).values())


def register_list_state_metrics(
    registry: CollectorRegistry, sources: Callable[[], list[SourceSettings]], directory: Path
) -> ListStateCollector:
    collector = ListStateCollector(sources, directory)
    registry.register(collector)
    return collector
