"""Metrics: first in the chain, so every query is counted and timed, whatever answers it."""

from __future__ import annotations

import time

from filterproxy.dns.metrics import DnsMetrics
from filterproxy.dns.request import Answer, Handler, Reply, Request, then


class MetricsStage:
    def __init__(self, metrics: DnsMetrics) -> None:
        self.metrics = metrics

    def __call__(self, req: Request, next: Handler) -> Reply:
        self.metrics.query(req.qtype, req.transport)
        return then(next(req), lambda answer: self._done(req, answer))

    def _done(self, req: Request, answer: Answer) -> Answer:
        self.metrics.response(answer.rcode, answer.source, time.perf_counter() - req.started)
        return answer
