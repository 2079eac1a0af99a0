"""Counters and a histogram for the per-query hot path, exported through a custom collector.

prometheus_client's Counter and Histogram take a lock and walk label validation on every
call: about 1-2.5 us each, several times per query. The resolver updates these from its one
event-loop thread, so plain integers suffice; :class:`HotCollector` turns them into the same
metric families at scrape time. Names and labels go through the same checks as every metric.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from filterproxy.metrics.registry import check_labels, check_name

LabelValues = tuple[str, ...]
CountSource = Callable[[], Iterable[tuple[LabelValues, int]]]
BucketSource = Callable[[], Iterable[tuple[LabelValues, list[float]]]]


class HotCounter:
    def __init__(self, name: str, doc: str, labels: Sequence[str] = ()) -> None:
        check_name(name, suffix="_total")
        check_labels(labels)
        self.name, self.doc, self.labels = name.removesuffix("_total"), doc, list(labels)
        self.values: dict[LabelValues, int] = {}
        self.sources: list[CountSource] = []  # more counts kept elsewhere (the hot lane), added at scrape time

    def inc(self, key: LabelValues = ()) -> None:
        self.values[key] = self.values.get(key, 0) + 1

    def totals(self) -> dict[LabelValues, int]:
        totals = dict(self.values)
        for source in self.sources:
            for key, value in source():
                if value:
                    totals[key] = totals.get(key, 0) + value
        return totals

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.doc, labels=self.labels)
        for key, value in self.totals().items():
            family.add_metric(list(key), value)
        return family


class HotHistogram:
    def __init__(self, name: str, doc: str, labels: Sequence[str], buckets: Sequence[float]) -> None:
        check_name(name, suffix="_seconds")
        check_labels(labels)
        self.name, self.doc, self.labels = name, doc, list(labels)
        self.bounds = tuple(buckets)
        self.values: dict[LabelValues, list[float]] = {}  # per-bucket counts (+Inf last), then the sum
        self.sources: list[BucketSource] = []  # more observations kept elsewhere, in the same layout

    def observe(self, key: LabelValues, seconds: float) -> None:
        counts = self.values.get(key)
        if counts is None:
            counts = self.values[key] = [0.0] * (len(self.bounds) + 2)
        counts[bisect_left(self.bounds, seconds)] += 1
        counts[-1] += seconds

    def totals(self) -> dict[LabelValues, list[float]]:
        totals = {key: list(counts) for key, counts in list(self.values.items())}
        for source in self.sources:
            for key, counts in source():
                if any(counts):
                    mine = totals.setdefault(key, [0.0] * len(counts))
                    totals[key] = [a + b for a, b in zip(mine, counts, strict=True)]
        return totals

    def family(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.doc, labels=self.labels)
        for key, counts in self.totals().items():
            cumulative, total = [], 0.0
            for bound, count in zip([*map(str, self.bounds), "+Inf"], counts[:-1], strict=True):
                total += count
                cumulative.append((bound, total))
            family.add_metric(list(key), cumulative, counts[-1])
        return family


class HotCollector(Collector):
    def __init__(self, registry: CollectorRegistry, metrics: Sequence[HotCounter | HotHistogram]) -> None:
        self.metrics = list(metrics)
        registry.register(self)

    def collect(self) -> Iterator[Metric]:
        for metric in self.metrics:
            yield metric.family()
