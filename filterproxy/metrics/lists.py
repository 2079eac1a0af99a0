"""Metrics of the category lists: entries, age and bad lines per source, reload outcomes.

The list loader calls :meth:`ListMetrics.observe` after every successful (re)load with one
:class:`SourceStats` per source, and :meth:`ListMetrics.failed` when a reload was refused
(the old index stays; the age keeps growing, so the freshness alert still fires).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from filterproxy.metrics.registry import counter, gauge


@dataclass(frozen=True, slots=True)
class SourceStats:
    """What one list source contributed to the index just built."""

    id: str  # source id from the configuration, e.g. "ut1/gambling" (bounded: configured)
    category: str  # model.Category value
    entries: int  # entries that went into the index
    bad_lines: int  # malformed lines skipped (within the tolerated share)
    mtime: float  # modification time of the list file (Unix seconds): its age on the dashboard
    rejected: bool = False  # the live file was rejected: the index holds the source's last good copy


class ListMetrics:
    """The ``filterproxy_lists_*`` metrics on one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("category", "source")
        self.entries = gauge(registry, "filterproxy_lists_entries", "Entries per list source.", labels)
        self.bad_lines = gauge(
            registry, "filterproxy_lists_bad_lines", "Malformed lines skipped in the last load.", labels
        )
        self.mtime = gauge(
            registry,
            "filterproxy_lists_source_mtime_seconds",
            "Modification time of each list source (Unix seconds); time() minus this is its age.",
            labels,
        )
        self.rejected = gauge(
            registry,
            "filterproxy_lists_source_rejected",
            "1 while a source's current file is rejected (too many bad lines) and its last good copy serves.",
            labels,
        )
        self.reloads = counter(
            registry, "filterproxy_lists_reloads_total", "List (re)loads by result (ok, failed).", ("result",)
        )
        self.last_reload = gauge(
            registry, "filterproxy_lists_last_reload_seconds", "Last successful (re)load, Unix seconds."
        )
        self.last_failure = gauge(
            registry, "filterproxy_lists_last_failure_seconds", "Last failed (re)load, Unix seconds."
        )
        for result in ("ok", "failed"):
            self.reloads.labels(result)  # both series exist from the start: rate() and alerts see zeros
        self._known: set[tuple[str, str]] = set()

    def observe(self, stats: Iterable[SourceStats], *, at: float | None = None) -> None:
        """Record a successful (re)load; sources no longer configured disappear from the metrics."""
        seen: set[tuple[str, str]] = set()
        for source in stats:
            key = (source.category, source.id)
            seen.add(key)
            self.entries.labels(*key).set(source.entries)
            self.bad_lines.labels(*key).set(source.bad_lines)
            self.mtime.labels(*key).set(source.mtime)
            self.rejected.labels(*key).set(1 if source.rejected else 0)
        for key in self._known - seen:
            for metric in (self.entries, self.bad_lines, self.mtime, self.rejected):
                metric.remove(*key)
        self._known = seen
        self.reloads.labels("ok").inc()
        self.last_reload.set(time.time() if at is None else at)

    def failed(self, *, at: float | None = None) -> None:
        """Record a refused reload (the previous index stays in service)."""
        self.reloads.labels("failed").inc()
        self.last_failure.set(time.time() if at is None else at)
