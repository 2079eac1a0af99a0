"""Incident reporting: every blocked (or log-only) query becomes a BlockEvent for the queue."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from dnslib import QTYPE

from filterproxy.dns.request import Answer, Handler, Reply, Request, then
from filterproxy.incidents.event import BlockEvent, IncidentSink

#: The alphabet of :func:`filterproxy.incidents.event.new_reference` (32 symbols, no 0/O, 1/I).
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class References:
    """References in ``new_reference()``'s format, drawn from one ``secrets`` call per 512.

    ``new_reference`` makes seven ``secrets.choice`` calls (about 10 us, a third of a blocked
    query's cost); with exactly 32 symbols, ``byte & 31`` is just as uniform.
    """

    def __init__(self, batch: int = 512) -> None:
        self._batch = batch
        self._pool: list[str] = []

    def next(self) -> str:
        if not self._pool:
            raw = secrets.token_bytes(7 * self._batch)
            chars = "".join(ALPHABET[b & 31] for b in raw)
            self._pool = [f"{chars[i : i + 3]}-{chars[i + 3 : i + 7]}" for i in range(0, len(chars), 7)]
        return self._pool.pop()


def qtype_name(qtype: int) -> str:
    name: str = QTYPE.get(qtype, f"TYPE{qtype}")
    return name


class IncidentStage:
    """Reads the verdict later stages noted on the request; ``submit`` never blocks."""

    def __init__(self, sink: IncidentSink) -> None:
        self.sink = sink
        self.references = References()

    def __call__(self, req: Request, next: Handler) -> Reply:
        return then(next(req), lambda answer: self._report(req, answer))

    def _report(self, req: Request, answer: Answer) -> Answer:
        verdict = req.verdict
        if verdict is not None and verdict.recorded:
            event = BlockEvent(
                at=datetime.now(UTC),
                protocol="dns",
                client=str(req.client),
                verdict=verdict,
                reference=self.references.next(),
                qtype=qtype_name(req.qtype),
            )
            self.sink.submit(event)
        return answer
