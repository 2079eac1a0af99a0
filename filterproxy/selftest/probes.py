"""One probe through one path: a DNS query to the resolver, or an HTTP request through the proxy.

A block is recognised by what filterproxy puts on it, not by guessing from addresses: DNS
block answers carry an Extended DNS Error (RFC 8914: 15 Blocked, 16 Censored, 17 Filtered);
the proxy's block page is a 403 with ``X-Filterproxy-Category``. The configured block answer
(block page address, 0.0.0.0) is recognised as well, for resolvers that strip EDNS options.
"""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from filterproxy.config.block import BlockSettings
from filterproxy.config.types import split_host_port
from filterproxy.selftest.results import Observed

EDE_BLOCKS = {15, 16, 17}


@dataclass(frozen=True, slots=True)
class Seen:
    observed: Observed
    detail: str


def host_of(target: str) -> str:
    return urlsplit(target).hostname or "" if "://" in target else target


def probe_dns(
    name: str, server: tuple[str, int], block: BlockSettings, timeout: float, source: str | None
) -> Seen:
    """Ask the resolver for ``name`` (A, with EDNS so the EDE comes back)."""
    query = dns.message.make_query(name, dns.rdatatype.A, use_edns=0, payload=1232)
    try:
        reply = dns.query.udp(query, server[0], timeout=timeout, port=server[1], source=source)
    except (dns.exception.DNSException, OSError) as exc:
        return Seen("error", f"no answer: {exc.__class__.__name__}: {exc}")
    for ede in reply.extended_errors():
        if int(ede.code) in EDE_BLOCKS:
            return Seen("blocked", f"EDE {int(ede.code)} {ede.text or ''}".strip())
    rcode = reply.rcode()
    if rcode in (dns.rcode.SERVFAIL, dns.rcode.REFUSED, dns.rcode.FORMERR, dns.rcode.NOTIMP):
        return Seen("error", dns.rcode.to_text(rcode))
    addresses = {r.to_text() for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A for r in rrset}
    block_addresses = {"0.0.0.0"}
    if block.dns_answer == "blockpage":
        block_addresses.add(str(block.blockpage_ipv4))
    if addresses & block_addresses and not addresses - block_addresses:
        return Seen("blocked", f"block address {', '.join(sorted(addresses))}")
    answer = ", ".join(sorted(addresses)) or "no address"
    return Seen("allowed", f"{dns.rcode.to_text(rcode)} {answer}")


def probe_http(target: str, proxy: tuple[str, int], timeout: float, source: str | None) -> Seen:
    """``GET`` the URL (``http://name/`` for a bare name) through the proxy, in absolute form."""
    url = target if "://" in target else f"http://{target}/"
    if urlsplit(url).scheme != "http":
        return Seen("error", f"only http:// URLs can be probed, got {url!r}")
    bind = (source, 0) if source else None
    connection = http.client.HTTPConnection(proxy[0], proxy[1], timeout=timeout, source_address=bind)
    try:
        connection.request("GET", url, headers={"User-Agent": "filterproxy-selftest", "Connection": "close"})
        response = connection.getresponse()
        response.read()
    except (http.client.HTTPException, OSError) as exc:
        return Seen("error", f"no response: {exc.__class__.__name__}: {exc}")
    finally:
        connection.close()
    category = response.getheader("x-filterproxy-category")
    if response.status == 403 and category:
        return Seen("blocked", f"block page ({category})")
    return Seen("allowed", f"HTTP {response.status}")  # the filter let it through, origin up or not


def connect_address(listen: str) -> tuple[str, int]:
    """Where to reach a service listening on ``listen`` from this host (wildcards become loopback)."""
    host, port = split_host_port(listen)
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return host, port


def can_bind(address: str) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return False
    return True
