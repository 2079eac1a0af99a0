"""Incident reporting: every blocked (or log-only) query becomes a BlockEvent for the queue."""

from __future__ import annotations

from datetime import UTC, datetime

from dnslib import QTYPE

from filterproxy.dns.request import Answer, Handler, Reply, Request, then
from filterproxy.incidents.event import BlockEvent, IncidentSink, new_reference


def qtype_name(qtype: int) -> str:
    name: str = QTYPE.get(qtype, f"TYPE{qtype}")
    return name


class IncidentStage:
    """Reads the verdict later stages noted on the request; ``submit`` never blocks."""

    def __init__(self, sink: IncidentSink) -> None:
        self.sink = sink

    def __call__(self, req: Request, next: Handler) -> Reply:
        return then(next(req), lambda answer: self._report(req, answer))

    def _report(self, req: Request, answer: Answer) -> Answer:
        verdict = req.verdict
        if verdict is not None and verdict.recorded and not req.probe:  # probes leave no record
            who = req.identity
            event = BlockEvent(
                at=datetime.now(UTC),
                protocol="dns",
                client=str(req.client),
                verdict=verdict,
                reference=new_reference(),
                qtype=qtype_name(req.qtype),
                user=who.user if who is not None else None,
                identified_by=who.source.value if who is not None else None,
                identified_at=datetime.fromtimestamp(who.since, UTC) if who is not None else None,
            )
            self.sink.submit(event)
        return answer
