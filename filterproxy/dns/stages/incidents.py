"""Incident reporting: every blocked (or log-only) query becomes a BlockEvent for the queue."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime

from dnslib import QTYPE

from filterproxy.dns.request import Answer, Handler, Reply, Request, then
from filterproxy.incidents.event import BlockEvent, IncidentSink, new_reference
from filterproxy.model import IPAddress

CLIENT_TEXTS = 65536
_QTYPE_NAMES: dict[int, str] = {}


def qtype_name(qtype: int) -> str:
    found = _QTYPE_NAMES.get(qtype)
    if found is None:
        found = QTYPE.get(qtype, f"TYPE{qtype}")
        if len(_QTYPE_NAMES) < 65536:  # at most every type there is
            _QTYPE_NAMES[qtype] = found
    return found  # type: ignore[return-value]


class IncidentStage:
    """Reads the verdict later stages noted on the request; ``submit`` never blocks."""

    def __init__(self, sink: IncidentSink) -> None:
        self.sink = sink
        self._texts: OrderedDict[IPAddress, str] = OrderedDict()  # str() of an address costs ~1.5 us

    def __call__(self, req: Request, next: Handler) -> Reply:
        return then(next(req), lambda answer: self._report(req, answer))

    def _report(self, req: Request, answer: Answer) -> Answer:
        verdict = req.verdict
        if verdict is not None and verdict.recorded and not req.probe:  # probes leave no record
            who = req.identity
            if who is None:  # positional (no url, no method): keywords cost twice as much, once per block
                event = BlockEvent(
                    datetime.now(UTC), "dns", self._text(req.client), verdict, new_reference(), None, None,
                    qtype_name(req.qtype),
                )  # fmt: skip
            else:
                event = BlockEvent(
                    at=datetime.now(UTC),
                    protocol="dns",
                    client=self._text(req.client),
                    verdict=verdict,
                    reference=new_reference(),
                    qtype=qtype_name(req.qtype),
                    user=who.user,
                    identified_by=who.source.value,
                    identified_at=datetime.fromtimestamp(who.since, UTC),
                )
            self.sink.submit(event)
        return answer

    def _text(self, client: IPAddress) -> str:
        found = self._texts.get(client)
        if found is None:
            if len(self._texts) >= CLIENT_TEXTS:
                self._texts.popitem(last=False)
            found = self._texts[client] = str(client)
        return found
