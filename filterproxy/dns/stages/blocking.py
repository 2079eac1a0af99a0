"""Blocking: the shared classifier decides, by client group and time; CNAME targets are re-checked.

Blocks are answered per ``config.block`` (NXDOMAIN, NODATA, 0.0.0.0/:: or the block page) with
an Extended DNS Error naming the category. A log-only verdict lets the query through but is
noted on the request so the incident stage records it.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Hashable
from datetime import UTC, datetime

from filterproxy.config.block import BlockSettings
from filterproxy.dns.answers import DnsAnswers, Maker, block_maker
from filterproxy.dns.metrics import DnsMetrics
from filterproxy.dns.ports import EngineLike
from filterproxy.dns.request import Answer, Handler, Reply, Request, then
from filterproxy.model import Query, Verdict

MEMO_SIZE = 16384


class BlockingStage:
    def __init__(self, engine: EngineLike, settings: BlockSettings, responder: DnsAnswers, metrics: DnsMetrics):
        self.engine = engine
        self.settings = settings
        self.responder = responder
        self.metrics = metrics
        self._makers: dict[Hashable, tuple[Hashable, Maker]] = {}
        self._memo: OrderedDict[tuple[str, str], tuple[tuple[int, int], Verdict | None]] = OrderedDict()

    def __call__(self, req: Request, next: Handler) -> Reply:
        # the hot lane may keep this answer while the verdicts it rests on hold; never for an identified
        # person (the lane is per network group, and the person may leave the address at any time)
        req.lane_left = math.inf if req.identity is None else 0.0
        verdict = self._classify(req, req.name)
        if verdict is not None:
            if verdict.blocked:
                return self._block(req, verdict)
            if verdict.recorded:
                req.verdict = verdict
        return then(next(req), lambda answer: self._recheck(req, answer))

    def _classify(self, req: Request, name: str) -> Verdict | None:
        """The verdict, remembered per (name, group) for the list generation and, when the
        group has time windows, for the rest of the wall-clock minute.

        The classifier uses the client only to find its group and the time only for the
        group's windows, which it evaluates per minute; so the remembered verdict is the one it
        would give. ``req.lane_left`` is cut to the same horizon (the hot lane's).
        """
        if not name:
            return None  # the root: nothing to classify
        engine = self.engine
        now = time.time()
        who = req.identity
        group = engine.group_of(req.client) if who is None else engine.group_for(req.client, who.directory)
        minute = -1 if engine.current.policy.timeless(group) else int(now) // 60
        if minute >= 0:
            req.lane_left = min(req.lane_left, 60.0 - now % 60.0)
        key = (name, group)
        stamp = (minute, engine.generation)
        hit = self._memo.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        try:
            at = datetime.fromtimestamp(now, UTC)
            query = Query(req.client, name, at) if who is None else Query(req.client, name, at, None, who.user,
                                                                          who.directory)
            verdict = engine.classify(query)
        except ValueError:
            verdict = None  # not a name the classifier accepts (odd characters): nothing lists it
        if len(self._memo) >= MEMO_SIZE:
            self._memo.popitem(last=False)  # the oldest; clearing would send every hot name back to the classifier
        self._memo[key] = (stamp, verdict)
        return verdict

    def _recheck(self, req: Request, answer: Answer) -> Answer:
        for alias in answer.aliases:
            verdict = self._classify(req, alias)
            if verdict is not None and verdict.blocked:
                return self._block(req, verdict)
        return answer

    def _block(self, req: Request, verdict: Verdict) -> Answer:
        req.verdict = verdict
        category = verdict.category.value if verdict.category else "none"
        if req.probe:  # counted apart, so the review's block trends hold pupils' traffic only
            self.metrics.probe_blocks.labels(category, verdict.group).inc()
        else:
            self.metrics.block(category, verdict.group)
        kind = (req.qtype, verdict.category, verdict.reason)
        made = self._makers.get(kind)
        if made is None:
            made = self._makers[kind] = block_maker(self.settings, req.qtype, verdict)
        key, maker = made
        return Answer(self.responder.respond(req, key, maker), source="block")
