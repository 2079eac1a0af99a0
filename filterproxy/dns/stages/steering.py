"""Gateway steering: tells the gateway which addresses clients were given (see filterproxy.gateway.hook)."""

from __future__ import annotations

import logging
import time

from filterproxy.dns.request import Answer, Handler, Reply, Request, then
from filterproxy.gateway.hook import AnswerObserver

log = logging.getLogger(__name__)


class SteeringStage:
    def __init__(self, observer: AnswerObserver) -> None:
        self.observer = observer

    def __call__(self, req: Request, next: Handler) -> Reply:
        return then(next(req), lambda answer: self._observe(req, answer))

    def _observe(self, req: Request, answer: Answer) -> Answer:
        entry = answer.entry
        if entry is not None and entry.addresses:
            ttl = max(int(entry.lifetime - (time.monotonic() - entry.stored)), 0)
            self.observer.observe(req.client, req.name, entry.addresses, ttl)
        return answer
