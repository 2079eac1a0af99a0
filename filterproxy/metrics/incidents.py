"""``filterproxy_incidents_by_status``: open work for the dashboard, read from the incident store.

The queue's own metrics count events as they pass; how many incidents wait in each lifecycle
status lives only in the store. This collector asks it at most once a minute (with its own
connection, never the writer's) and serves the cached figures in between, so a scrape never
waits on the database for long and a store outage shows as missing data, not as zeros.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from filterproxy.errors import IncidentError
from filterproxy.incidents.store import IncidentStore

log = logging.getLogger(__name__)
Counts = Callable[[], Mapping[str, int]]
_RETRY = 5.0  # seconds before asking a failing store again


def store_counts(store: IncidentStore, days: int = 365) -> Counts:
    """Incidents per status seen in the last ``days`` (the store's retention horizon by default)."""

    def counts() -> Mapping[str, int]:
        return store.counts_by_status(since=datetime.now(UTC) - timedelta(days=days))

    return counts


class IncidentStatusCollector(Collector):
    """Serves the store's counts per status, refreshed at most every ``max_age`` seconds."""

    def __init__(
        self, counts: Counts, *, max_age: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._counts = counts
        self._max_age = max_age
        self._clock = clock
        self._cached: Mapping[str, int] | None = {}  # {} until the first answer; None while failing
        self._at = float("-inf")

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Names only: registering must not query a store that may not be migrated yet."""
        yield self._family()

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "filterproxy_incidents_by_status", "Incidents in each lifecycle status (store, last year).",
            labels=["status"],
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self._clock() - self._at >= self._max_age:
            self._at = self._clock()
            try:
                self._cached = self._counts()
            except IncidentError as exc:
                # once per outage; the store is often not migrated yet at the very first scrape
                (log.warning if self._cached is not None else log.debug)("incident counts unavailable: %s", exc)
                self._cached = None
                self._at -= self._max_age - min(self._max_age, _RETRY)  # try again soon, not in a minute
        family = self._family()
        for status, count in sorted((self._cached or {}).items()):  # nothing while failing: no false zeros
            family.add_metric([status], float(count))
        yield family


def register_incident_status(registry: CollectorRegistry, store: IncidentStore) -> IncidentStatusCollector:
    """Register the collector; ``store`` must be a separate instance from the queue writer's."""
    collector = IncidentStatusCollector(store_counts(store))
    registry.register(collector)
    return collector
