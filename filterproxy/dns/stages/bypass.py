"""Bypass defence: keep browsers and OSes from routing around the school resolver.

- Firefox disables its automatic DNS over HTTPS when ``use-application-dns.net`` is NXDOMAIN.
- Apple disables iCloud Private Relay when ``mask.icloud.com``/``mask-h2.icloud.com`` are NXDOMAIN.
- Discovery of Designated Resolvers (RFC 9462) asks ``_dns.resolver.arpa``: NODATA says "none".
- Encrypted Client Hello hides the SNI the proxy filters on: :func:`strip_ech` removes the
  ``ech`` SvcParam from HTTPS/SVCB answers (applied to upstream answers before they are cached).
"""

from __future__ import annotations

from dnslib import HTTPS, RR, DNSBuffer, DNSRecord

from filterproxy.dns import wire
from filterproxy.dns.answers import DnsAnswers, negative
from filterproxy.dns.request import Answer, Handler, Reply, Request

CANARIES = frozenset({"use-application-dns.net", "mask.icloud.com", "mask-h2.icloud.com"})
DDR_ZONE = "resolver.arpa"
KEY_MANDATORY, KEY_ECH = 0, 5


class BypassStage:
    def __init__(self, responder: DnsAnswers, ttl: int) -> None:
        self.responder = responder
        self._nxdomain = negative(wire.NXDOMAIN, ttl)
        self._nodata = negative(wire.NOERROR, ttl)

    def __call__(self, req: Request, next: Handler) -> Reply:
        name = req.name
        if name in CANARIES:
            return Answer(self.responder.respond(req, "canary", self._nxdomain))
        if name == DDR_ZONE or name.endswith(".resolver.arpa"):
            return Answer(self.responder.respond(req, "ddr", self._nodata))
        return next(req)


def strip_ech(record: DNSRecord) -> int:
    """Remove the ``ech`` SvcParam from every HTTPS/SVCB record; returns how many were changed."""
    changed = 0
    for rr in [*record.rr, *record.auth, *record.ar]:
        if rr.rtype in (wire.T_HTTPS, wire.T_SVCB) and _strip(rr):
            changed += 1
    return changed


def _strip(rr: RR) -> bool:
    rdata = rr.rdata
    if not isinstance(rdata, HTTPS):  # SVCB: dnslib keeps raw bytes; the format is HTTPS's
        raw = bytes(rdata.data)
        rdata = HTTPS.parse(DNSBuffer(raw), len(raw))
    params = [(k, v) for k, v in rdata.params if k != KEY_ECH]
    if len(params) == len(rdata.params):
        return False
    rdata.params = [(k, _without_ech(v)) if k == KEY_MANDATORY else (k, v) for k, v in params]
    rdata.params = [(k, v) for k, v in rdata.params if k != KEY_MANDATORY or v]
    rr.rdata = rdata
    return True


def _without_ech(mandatory: bytes) -> bytearray:
    keys = [mandatory[i : i + 2] for i in range(0, len(mandatory) - 1, 2)]
    return bytearray(b"".join(k for k in keys if int.from_bytes(k, "big") != KEY_ECH))
