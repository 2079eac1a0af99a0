"""The order of the resolver's stages, decided here and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from filterproxy.config.block import BlockSettings
from filterproxy.dns.answers import DnsAnswers
from filterproxy.dns.cache import Cache
from filterproxy.dns.metrics import DnsMetrics
from filterproxy.dns.ports import EngineLike
from filterproxy.dns.request import Handler, Reply, Request
from filterproxy.dns.settings import DnsSettings
from filterproxy.dns.stages.blocking import BlockingStage
from filterproxy.dns.stages.bypass import BypassStage, strip_ech
from filterproxy.dns.stages.cache import CacheStage
from filterproxy.dns.stages.identity import IdentityLookup, IdentityStage
from filterproxy.dns.stages.incidents import IncidentStage
from filterproxy.dns.stages.observe import MetricsStage
from filterproxy.dns.stages.qtype import QtypeStage
from filterproxy.dns.stages.safesearch import SafeSearchStage
from filterproxy.dns.stages.steering import SteeringStage
from filterproxy.dns.stages.upstream import UpstreamStage
from filterproxy.dns.upstream import UpstreamPool
from filterproxy.gateway.hook import AnswerObserver
from filterproxy.incidents.event import IncidentSink


class Stage(Protocol):
    """Answer the request, or pass it to ``next`` (and maybe look at what comes back)."""

    def __call__(self, req: Request, next: Handler) -> Reply: ...


def build_chain(
    *,
    settings: DnsSettings,
    block: BlockSettings,
    engine: EngineLike,
    sink: IncidentSink,
    metrics: DnsMetrics,
    responder: DnsAnswers,
    cache: Cache,
    pool: UpstreamPool,
    observer: AnswerObserver | None = None,
    identities: IdentityLookup | None = None,
) -> Handler:
    stages: list[Stage] = [
        # metrics: outermost, so every query is counted and timed whatever stage answers it.
        MetricsStage(metrics),
        # incidents: wraps all policy stages, so it sees verdicts from blocking and from CNAME re-checks.
        IncidentStage(sink),
        # qtype: zone transfers, ANY and meta types are settled before any policy or upstream work.
        QtypeStage(responder),
        # bypass: canary and DDR names get their fixed answers whatever the lists or the group say.
        BypassStage(responder, block.ttl),
        # identity (when configured): the person behind the address, before any stage that uses the group.
        *([IdentityStage(identities)] if identities is not None else []),
        # blocking: before the cache, because verdicts depend on the client's group and the time,
        # while cached answers are the same for everyone (CNAME targets are re-checked on the way out).
        BlockingStage(engine, block, responder, metrics),
        # safesearch: after blocking, so the name asked is classified as on HTTP (a denied www.bing.com stays
        # blocked) and the enforcing host it substitutes is re-checked on the way out, as a CNAME target.
        SafeSearchStage(engine, responder),
    ]
    if observer is not None:
        # steering: after blocking (block page addresses are pinned by the ruleset), sees hits and misses.
        stages.append(SteeringStage(observer))
    stages += [
        # cache: answers what it can without the network; stale answers when the upstreams fail.
        CacheStage(cache, engine, metrics, settings.edns_payload, settings.fast_path),
        # upstream: last; ECH is stripped from replies here, before they are cached (bypass defence).
        UpstreamStage(pool, settings, filters=[strip_ech], metrics=metrics),
    ]
    return compose(stages)


def compose(stages: Sequence[Stage]) -> Handler:
    """Chain stages so each one's ``next`` is the one after it."""
    handler: Handler = _no_answer
    for stage in reversed(stages):
        handler = _link(stage, handler)
    return handler


def _link(stage: Stage, next_handler: Handler) -> Handler:
    return lambda req: stage(req, next_handler)


def _no_answer(req: Request) -> Reply:
    raise RuntimeError("the chain ended without an answer: the last stage must always answer")
