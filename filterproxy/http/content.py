"""Content analysis in the proxy: the bodies of allowed HTML and text pages, scored before the client sees them.

Which flows are read: allowed requests (not the school's allow list) whose group acts on some
content category, answered 2xx with an HTML or text body. Two ways, both bounded:

- a body of known length that mitmproxy buffers anyway (up to ``stream_large_bodies``): scored
  in the ``response`` hook, on a worker thread, from at most ``max_bytes`` decoded bytes; a page
  over its threshold is replaced by the block page (403);
- a body of unknown length (chunked) or a large one: ``flow.response.stream`` is a
  :class:`PrefixHold` that holds back the first ``max_bytes`` decoded bytes, decides once, then
  lets the rest stream. The status line has gone out by then, so a blocked page is the block
  page's HTML in place of the body (with the response's own content encoding).

A finding for an unlisted host goes into the engine's site cache, so the next request to that
site (and DNS for it) is decided without reading a body.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from mitmproxy import http
from mitmproxy.net import encoding as mitm_encoding

from filterproxy.classify.engine import Engine
from filterproxy.classify.siteverdicts import content_verdict
from filterproxy.content.analyser import Analyser, page_kind
from filterproxy.content.inflate import Inflater
from filterproxy.content.judge import finding_for
from filterproxy.content.metrics import ContentMetrics
from filterproxy.http.decide import RequestDecision
from filterproxy.http.responder import Responder
from filterproxy.model import Action, IPAddress, Reason, Verdict

log = logging.getLogger(__name__)
SCAN = "filterproxy_content"  # flow.metadata key: (client, verdict) of a buffered body to score
_ACTIONS = {"block": Action.BLOCK, "log": Action.LOG}
_NOT_READ = (Reason.LOCAL_ALLOW, Reason.CONTENT)  # the school's allow list; a finding already decided


class ContentGuard:
    """Reads page bodies for :class:`FilterAddon`; one per proxy."""

    def __init__(
        self, analyser: Analyser, engine: Engine, responder: Responder, metrics: ContentMetrics, workers: int = 2
    ) -> None:
        self.analyser = analyser
        self.engine = engine
        self.responder = responder
        self.metrics = metrics
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="filterproxy-content")

    def counted(self, verdict: Verdict) -> None:
        """A request decided from the site cache (reason ``content``) is a content verdict too."""
        if verdict.reason is Reason.CONTENT and verdict.category is not None:
            self.metrics.verdict(verdict.category.value, verdict.action.value, "cached")

    def responseheaders(self, flow: http.HTTPFlow, client: IPAddress, verdict: Verdict) -> None:
        response = flow.response
        if response is None or not self._wanted(flow, response, verdict):
            return
        encoding = response.headers.get("content-encoding", "")
        try:
            inflater = Inflater(encoding, self.analyser.max_bytes)
        except ValueError:
            return  # an encoding we cannot read (or several): not scored
        if not response.stream and "content-length" in response.headers:
            flow.metadata[SCAN] = (client, verdict)  # buffered by mitmproxy: scored in the response hook
            return
        response.headers.pop("content-length", None)  # the length may change if the page is blocked
        if flow.client_conn.alpn != b"h2" and "chunked" not in response.headers.get("transfer-encoding", ""):
            response.headers["transfer-encoding"] = "chunked"
        response.stream = PrefixHold(inflater, lambda body: self._held(flow, client, verdict, body, encoding))

    async def response(self, flow: http.HTTPFlow) -> None:
        pending = flow.metadata.pop(SCAN, None)
        response = flow.response
        if pending is None or response is None or not flow.live:
            return
        client, verdict = pending
        raw = response.raw_content or b""
        ctype = response.headers.get("content-type")
        encoding = response.headers.get("content-encoding", "")
        loop = asyncio.get_running_loop()
        try:
            decided = await loop.run_in_executor(self._pool, self._decide, verdict, raw, ctype, encoding)
        except Exception:  # a scoring bug must not take the page with it: it passes, the error is logged
            log.exception("content analysis failed; the page passes")
            return
        if decided is None:
            return
        if decided.blocked:
            flow.response = self.responder.block(flow, client, RequestDecision(decided))
        else:
            self.responder.record(flow, client, decided, "https" if flow.request.scheme == "https" else "http")

    def _wanted(self, flow: http.HTTPFlow, response: http.Response, verdict: Verdict) -> bool:
        if verdict.blocked or verdict.reason in _NOT_READ or not flow.live:
            return False
        if not 200 <= response.status_code < 300 or response.status_code in (204, 206):
            return False
        if flow.request.method.upper() == "HEAD" or page_kind(response.headers.get("content-type")) is None:
            return False
        policy = self.engine.current.policy
        return any(policy.content_rule(verdict.group, c).action != "off" for c in self.analyser.scanner.categories)

    def _decide(self, verdict: Verdict, raw: bytes, ctype: str | None, encoding: str) -> Verdict | None:
        try:
            inflater = Inflater(encoding, self.analyser.max_bytes)
        except ValueError:
            return None
        inflater.feed(raw)
        return self.judge(verdict, bytes(inflater.out), ctype)

    def judge(self, verdict: Verdict, body: bytes, ctype: str | None) -> Verdict | None:
        """The content verdict for this page and the asking group, or None when the page passes."""
        scores = self.analyser.scan(body, ctype)
        if scores is None:
            return None
        policy = self.engine.current.policy
        finding = finding_for(scores, policy, self.analyser.scanner)
        if finding is None:
            return None
        if verdict.reason is Reason.UNLISTED:  # listed sites keep their list verdict; their pages are read each time
            self.engine.sites.record(verdict.host, finding)
        rule = policy.content_rule(verdict.group, finding.category)
        action = _ACTIONS.get(rule.action)
        if action is None or finding.points < rule.threshold:
            return None  # over another group's threshold only
        self.metrics.verdict(finding.category.value, action.value, "page")
        return content_verdict(verdict, finding, action, self.engine.current.suffixes)

    def _held(
        self, flow: http.HTTPFlow, client: IPAddress, verdict: Verdict, body: bytes, encoding: str
    ) -> bytes | None:
        """PrefixHold's decision: the replacement body when blocked, else None (the page streams on)."""
        response = flow.response
        decided = self.judge(verdict, body, response.headers.get("content-type") if response else None)
        if decided is None:
            return None
        if not decided.blocked:
            self.responder.record(flow, client, decided, "https" if flow.request.scheme == "https" else "http")
            return None
        page = self.responder.block(flow, client, RequestDecision(decided))
        page_body = page.raw_content or b""
        if encoding.strip().lower() in ("", "identity"):
            return page_body
        return mitm_encoding.encode(page_body, encoding.strip().lower())

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class PrefixHold:
    """A ``flow.response.stream`` callable: holds the body back until the page can be judged.

    ``decide`` gets the decoded prefix once (at ``max_bytes`` or at the end of the body) and
    returns the body to send instead, or None to send what was held and stream the rest.
    """

    def __init__(self, inflater: Inflater, decide: Callable[[bytes], bytes | None]) -> None:
        self.inflater = inflater
        self.decide = decide
        self.held: list[bytes] = []
        self.decided = False
        self.blocked = False

    def __call__(self, chunk: bytes) -> list[bytes]:
        # a list, never b"": mitmproxy would send an empty chunk as the end of a chunked body
        if self.decided:
            return [] if self.blocked or not chunk else [chunk]
        if chunk:
            self.held.append(chunk)
            self.inflater.feed(chunk)
            if not (self.inflater.full or self.inflater.failed):
                return []
        self.decided = True
        try:
            replacement = self.decide(bytes(self.inflater.out))
        except Exception:  # a scoring bug must not take the page with it: the page passes, the error is logged
            log.exception("content analysis failed; the page passes")
            replacement = None
        held, self.held = b"".join(self.held), []
        if replacement is not None:
            self.blocked = True
            return [replacement]
        return [held] if held else []
