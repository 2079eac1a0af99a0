"""What the proxy does with a connection or a request: pure decisions over the shared classifier.

No mitmproxy here: the addon translates flows into calls to :class:`Decider` and acts on the
result, so every rule (passthrough, interception, SafeSearch, watch lists) is tested alone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from filterproxy.classify.engine import Engine
from filterproxy.classify.safesearch import enforcement, provider_of
from filterproxy.classify.settings import Group
from filterproxy.http.safesearch import changes
from filterproxy.http.searchterms import Watcher, WatchHit, extract_search_term, is_term_site
from filterproxy.http.settings import ProxySettings
from filterproxy.identity.model import Identity
from filterproxy.model import Action, IPAddress, Query, Reason, Verdict


class TlsHandling(enum.StrEnum):
    """What happens to a TLS connection after its CONNECT or ClientHello."""

    PASSTHROUGH = "passthrough"  # bytes relayed untouched; the client sees the origin's certificate
    INTERCEPT = "intercepted"  # TLS terminated with the school CA: block page, or full filtering
    REFUSE = "refused"  # closed before any upstream connection


@dataclass(frozen=True, slots=True)
class ConnectionDecision:
    handling: TlsHandling
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class RequestDecision:
    """The verdict on one request and the changes to make when it is allowed."""

    verdict: Verdict  # after watch lists: a watched search term may turn an allow into log or block
    path: str | None = None  # a new path (SafeSearch parameters), or None to keep it
    youtube: str | None = None  # value for the YouTube-Restrict header, or None
    search_term: str | None = None
    watch: WatchHit | None = None


class Decider:
    """Connection and request decisions for one proxy; cheap to call, holds no per-flow state."""

    def __init__(self, engine: Engine, settings: ProxySettings) -> None:
        self.engine = engine
        self.tls_blockpage = settings.tls_blockpage
        self.no_sni = settings.no_sni
        self.passthrough = frozenset(settings.passthrough)
        self.watcher = Watcher(settings.watch)

    def classify(self, client: IPAddress, host: str, path: str | None = None, who: Identity | None = None) -> Verdict:
        if who is None:
            return self.engine.classify(Query(client, host, datetime.now(UTC), path))
        return self.engine.classify(Query(client, host, datetime.now(UTC), path, who.user, who.directory))

    def group(self, verdict: Verdict) -> Group:
        return self.engine.current.policy.group(verdict.group)

    def connection(
        self, client: IPAddress, host: str | None, address: str | None, who: Identity | None = None
    ) -> ConnectionDecision:
        """Decide a TLS connection by its name (CONNECT host or SNI), else by its destination address."""
        if host is None:
            verdict = self.classify(client, address or "0.0.0.0", None, who)
            if self.no_sni == "block" and not verdict.blocked:
                verdict = Verdict(Action.BLOCK, Reason.LOCAL_DENY, verdict.group, verdict.host, rule="no-sni")
        else:
            verdict = self.classify(client, host, None, who)
        if verdict.blocked:
            return ConnectionDecision(TlsHandling.INTERCEPT if self.tls_blockpage else TlsHandling.REFUSE, verdict)
        if host is not None and self.group(verdict).intercept and not self.is_passthrough(verdict.host):
            return ConnectionDecision(TlsHandling.INTERCEPT, verdict)
        return ConnectionDecision(TlsHandling.PASSTHROUGH, verdict)

    def is_passthrough(self, host: str) -> bool:
        if not self.passthrough:
            return False
        parts = host.split(".")
        return any(".".join(parts[i:]) in self.passthrough for i in range(len(parts)))

    def request(self, client: IPAddress, host: str, path: str, who: Identity | None = None) -> RequestDecision:
        """Classify host + path; for allowed requests, the SafeSearch/YouTube changes and watch-list hits."""
        verdict = self.classify(client, host, path, who)
        if verdict.blocked:
            return RequestDecision(verdict)
        provider = provider_of(verdict.host)  # SafeSearch hosts: the provider table, as on the DNS path
        if provider is None and not is_term_site(verdict.host):  # most requests: no search engine, no YouTube
            return RequestDecision(verdict)
        term = extract_search_term(verdict.host, path)
        hit = self.watcher.match(term) if term else None
        if hit is not None:
            verdict = Verdict(
                hit.action,
                Reason.CATEGORY,
                verdict.group,
                verdict.host,
                category=hit.theme,
                source=f"watch/{hit.theme.value}",
                rule=hit.word,
                site=verdict.site,
            )
            if verdict.blocked:
                return RequestDecision(verdict, search_term=term, watch=hit)
        new_path, header = changes(enforcement(verdict.host, self.group(verdict)), path)
        return RequestDecision(verdict, new_path, None if header is None else header[1], term, hit)
