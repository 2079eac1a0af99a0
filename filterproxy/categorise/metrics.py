"""``filterproxy_model_*``: model verdicts per category and action, names scored, names cached.

The judge counts in plain integers on the hot path; this collector reads them from the engine's
current classifier at scrape time (labels are Category and Action values: bounded).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from filterproxy.categorise.judge import NameJudge
from filterproxy.classify.engine import Engine
from filterproxy.metrics.registry import check_labels, check_name

VERDICTS = "filterproxy_model_verdicts_total"
SCORED = "filterproxy_model_scored_total"
CACHED = "filterproxy_model_cached_names"


class ModelCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        judge = self._engine.current.judge
        verdicts = CounterMetricFamily(VERDICTS[: -len("_total")],
                                       "Hostname-model verdicts by category and action (block, log).",
                                       labels=("category", "action"))
        scored = CounterMetricFamily(SCORED[: -len("_total")], "Names the hostname model scored (cache misses).")
        cached = GaugeMetricFamily(CACHED, "Scored names held in the model's cache.")
        if isinstance(judge, NameJudge):  # the engine holds it as the core's Judge protocol
            for (category, action), count in sorted(judge.counts.items()):
                verdicts.add_metric((category.value, action.value), count)
            scored.add_metric((), judge.scored)
            cached.add_metric((), judge.cached)
        yield verdicts
        yield scored
        yield cached


def register_model_metrics(registry: CollectorRegistry, engine: Engine) -> None:
    check_name(VERDICTS, suffix="_total")
    check_name(SCORED, suffix="_total")
    check_name(CACHED)
    check_labels(("category", "action"))
    registry.register(ModelCollector(engine))
