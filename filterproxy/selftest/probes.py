"""One probe through one path: a DNS query to the resolver, or an HTTP request through the proxy.

A block is recognised by what filterproxy puts on it, not by guessing from addresses: DNS
block answers carry an Extended DNS Error (RFC 8914: 15 Blocked, 16 Censored, 17 Filtered);
the proxy's block page is a 403 with ``X-Filterproxy-Category``. The configured block answer
(block page address, 0.0.0.0) is recognised as well, for resolvers that strip EDNS options.

What is not blocked is "allowed" only on a real answer: an address in DNS, a 2xx or 3xx over
HTTP. NXDOMAIN, an empty answer or a 502 from the proxy is "unreachable", and SERVFAIL, a
timeout or a refused connection an "error", so a site that must stay reachable fails its probe
when the upstream is dead. Every probe carries the installation's token
(:mod:`filterproxy.selftest.marker`), so the filter keeps it out of incidents and block counts.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import dns.edns
import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from filterproxy.config.block import BlockSettings
from filterproxy.config.types import split_host_port
from filterproxy.selftest.marker import DNS_OPTION, HTTP_HEADER, make_token
from filterproxy.selftest.results import Observed

EDE_BLOCKS = {15, 16, 17}


@dataclass(frozen=True, slots=True)
class Seen:
    observed: Observed
    detail: str


def host_of(target: str) -> str:
    return urlsplit(target).hostname or "" if "://" in target else target


def probe_dns(
    name: str,
    server: tuple[str, int],
    block: BlockSettings,
    timeout: float,
    source: str | None,
    key: bytes | None = None,
) -> Seen:
    """Ask the resolver for ``name`` (A, with EDNS so the EDE comes back, and the probe token)."""
    options: list[dns.edns.Option] = []
    if key is not None:
        options.append(dns.edns.GenericOption(dns.edns.OptionType.make(DNS_OPTION), make_token(key, name)))
    query = dns.message.make_query(name, dns.rdatatype.A, use_edns=0, payload=1232, options=options)
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
    if not addresses:  # NXDOMAIN or no address: not blocked, but not reachable either
        return Seen("unreachable", f"{dns.rcode.to_text(rcode)} no address")
    return Seen("allowed", f"{dns.rcode.to_text(rcode)} {', '.join(sorted(addresses))}")


def probe_http(
    target: str, proxy: tuple[str, int], timeout: float, source: str | None, key: bytes | None = None
) -> Seen:
    """``GET`` the URL (``http://name/`` for a bare name) through the proxy, with the probe token.

    ``http://`` goes to the proxy in absolute form; ``https://`` through a CONNECT tunnel that
    carries the token too, verified against the system's CAs as a browser would.
    """
    url = target if "://" in target else f"http://{target}/"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Seen("error", f"only http:// and https:// URLs can be probed, got {url!r}")
    headers = {"User-Agent": "filterproxy-selftest", "Connection": "close"}
    if key is not None:
        headers[HTTP_HEADER] = make_token(key, parts.hostname).hex()
    bind = (source, 0) if source else None
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(proxy[0], proxy[1], timeout=timeout, source_address=bind,
                                                 context=ssl.create_default_context())
        marked = {k: v for k, v in headers.items() if k == HTTP_HEADER}
        connection.set_tunnel(parts.hostname, parts.port or 443, headers=marked)
        path = parts.path or "/"
        request_target = f"{path}?{parts.query}" if parts.query else path
    else:
        connection = http.client.HTTPConnection(proxy[0], proxy[1], timeout=timeout, source_address=bind)
        request_target = url
    try:
        connection.request("GET", request_target, headers=headers)
        response = connection.getresponse()
        response.read()
    except OSError as exc:
        refused = re.match(r"Tunnel connection failed: (\d{3})", str(exc))
        if refused and refused.group(1) == "403":  # filterproxy's refusal of a blocked CONNECT
            return Seen("blocked", "CONNECT refused (403)")
        if refused:
            return Seen("unreachable", f"CONNECT {exc}")
        return Seen("error", f"no response: {exc.__class__.__name__}: {exc}")
    except http.client.HTTPException as exc:
        return Seen("error", f"no response: {exc.__class__.__name__}: {exc}")
    finally:
        connection.close()
    category = response.getheader("x-filterproxy-category")
    if response.status == 403 and category:
        return Seen("blocked", f"block page ({category})")
    if 200 <= response.status < 400:
        return Seen("allowed", f"HTTP {response.status}")
    return Seen("unreachable", f"HTTP {response.status}")  # not blocked, but no page (502: origin down)


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
