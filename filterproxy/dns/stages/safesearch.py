"""SafeSearch and YouTube restricted mode, per client group, by answering a CNAME to the
provider's enforcing host plus that host's own addresses (the method Google, Microsoft and
DuckDuckGo document for networks)."""

from __future__ import annotations

import re
from typing import Literal

from dnslib import DNSRecord

from filterproxy.classify.settings import Group
from filterproxy.dns.answers import Responder, cname_maker
from filterproxy.dns.ports import EngineLike
from filterproxy.dns.request import Answer, Handler, Reply, Request, then

Service = Literal["google", "bing", "duckduckgo", "youtube"]

GOOGLE = re.compile(r"(?:www\.)?google\.(?:com|cat|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})")
HOSTS: dict[str, Service] = {
    "www.bing.com": "bing",
    "bing.com": "bing",
    "duckduckgo.com": "duckduckgo",
    "www.duckduckgo.com": "duckduckgo",
    "www.youtube.com": "youtube",
    "m.youtube.com": "youtube",
    "youtubei.googleapis.com": "youtube",
    "youtube.googleapis.com": "youtube",
    "www.youtube-nocookie.com": "youtube",
}
TARGETS = {
    "google": "forcesafesearch.google.com",
    "bing": "strict.bing.com",
    "duckduckgo": "safe.duckduckgo.com",
}
YOUTUBE = {"strict": "restrict.youtube.com", "moderate": "restrictmoderate.youtube.com"}
CNAME_TTL = 300


def service_of(name: str) -> Service | None:
    found = HOSTS.get(name)
    if found is None and "google." in name and GOOGLE.fullmatch(name):
        return "google"
    return found


def target_for(service: Service, group: Group) -> str | None:
    """The enforcing host for this group, or None when the group has it off."""
    if service == "youtube":
        return YOUTUBE.get(group.youtube)
    return TARGETS[service] if group.safesearch else None


def encode_question(name: str, qtype: int, qclass: int) -> bytes:
    labels = b"".join(len(p).to_bytes(1, "big") + p.encode("ascii") for p in name.split(".") if p)
    return labels + b"\x00" + qtype.to_bytes(2, "big") + qclass.to_bytes(2, "big")


class SafeSearchStage:
    def __init__(self, engine: EngineLike, responder: Responder) -> None:
        self.engine = engine
        self.responder = responder

    def __call__(self, req: Request, next: Handler) -> Reply:
        service = service_of(req.name)
        if service is None:
            return next(req)
        who = req.identity
        name = self.engine.group_of(req.client) if who is None else self.engine.group_for(req.client, who.directory)
        group = self.engine.current.policy.group(name)
        target = target_for(service, group)
        if target is None:
            return next(req)
        sub = req.derive(target, encode_question(target, req.qtype, req.q.qclass))
        return then(next(sub), lambda answer: self._compose(req, target, answer))

    def _compose(self, req: Request, target: str, answer: Answer) -> Answer:
        record = DNSRecord.parse(answer.wire)
        auth = [] if record.rr else record.auth
        maker = cname_maker(target, CNAME_TTL, record.rr, record.header.rcode, auth)
        wire_ = self.responder.dnslib(req.q, maker)
        return Answer(wire_, (target, *answer.aliases), answer.entry, answer.failed, answer.source)
