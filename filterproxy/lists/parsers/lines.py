"""Plain domain lists, hosts files and UT1 ``urls`` files: one entry per line.

Plain and hosts share one parser because real lists mix them: after the ``#`` comment is cut
off, one token is a name (or an IP entry), several tokens are a hosts line (an address, then
names). The common lines take a fast path: one compiled pattern, no per-line function call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from filterproxy.lists.parsers.base import FAST_NAME, BadLine, Entry, Parsed, check_name, ip_text

#: Names hosts files map to themselves; never list entries.
HOSTS_IGNORED = frozenset(
    {
        "localhost", "localhost.localdomain", "local", "broadcasthost", "0.0.0.0", "127.0.0.1", "::1",
        "ip6-localhost", "ip6-loopback", "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes",
        "ip6-allrouters", "ip6-allhosts",
    }
)  # fmt: skip
# The hot path of every list load: a bare canonical name, or one after a 0.0.0.0/127.0.0.1 sink.
# (localhost.localdomain is the one dotted name of HOSTS_IGNORED: it must not slip through here.)
_FAST_LINE = re.compile(
    rf"(?:(?:0\.0\.0\.0|127\.0\.0\.1)[ \t]+)?(?!localhost\.localdomain\Z)({FAST_NAME.pattern})", re.ASCII
)


def parse_domain_lines(lines: Iterable[str], path: str) -> Iterator[Parsed]:
    """Parse a plain or hosts list; ``#`` starts a comment anywhere on a line."""
    fast = _FAST_LINE.fullmatch
    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        found = fast(text)
        if found:
            yield Entry("domain", found[1].lower(), number)
            continue
        if not text or text[0] == "#":
            continue
        yield from _slow_line(text, number, path, raw.rstrip("\n"))


def _slow_line(text: str, number: int, path: str, raw: str) -> Iterator[Parsed]:
    if "#" in text:
        text = text[: text.index("#")].rstrip()
    if " " in text or "\t" in text:
        yield from _hosts_line(text, number, path, raw)
    else:
        yield _one(text, number, path, raw)


def _one(text: str, number: int, path: str, raw: str) -> Parsed:
    if text[-1].isdigit():  # IPv4 entries are common in UT1 lists: try them first
        ip = ip_text(text)
        if ip is not None:
            return Entry("ip", ip, number)
    if text in HOSTS_IGNORED:
        return BadLine(path, number, f"{text!r} is not a list entry", raw)
    try:
        return _name_or_ip(text, number)
    except ValueError as exc:
        reason = "URL in a domain list (use format 'urls')" if "/" in text else str(exc)
        return BadLine(path, number, reason, raw)


def _hosts_line(text: str, number: int, path: str, raw: str) -> Iterator[Parsed]:
    tokens = text.split()
    if ip_text(tokens[0]) is None:
        yield BadLine(path, number, f"hosts line must start with an IP address, not {tokens[0][:40]!r}", raw)
        return
    for name in tokens[1:]:
        if name in HOSTS_IGNORED or name.lower() in HOSTS_IGNORED:
            continue
        try:
            item: Parsed = _name_or_ip(name, number)
        except ValueError as exc:
            item = BadLine(path, number, f"{name[:60]!r}: {exc}", raw)
        yield item


def _name_or_ip(text: str, number: int) -> Entry:
    """A domain entry, else an IP entry; check_name's ValueError when ``text`` is neither."""
    try:
        return Entry("domain", check_name(text), number)
    except ValueError:
        ip = ip_text(text)
        if ip is None:
            raise
        return Entry("ip", ip, number)


def parse_url_lines(lines: Iterable[str], path: str) -> Iterator[Parsed]:
    """Parse a UT1 ``urls`` file: ``host/path`` per line (a scheme, if present, is stripped).

    A line without a path lists the whole host, so it becomes a domain entry, as in squidGuard.
    """
    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text or text[0] == "#":
            continue
        try:
            yield url_entry(text, number)
        except ValueError as exc:
            yield BadLine(path, number, str(exc), raw.rstrip("\n"))


def url_entry(text: str, number: int) -> Entry:
    """The entry for one ``[scheme://]host[:port][/path]`` line; ValueError says why not."""
    if " " in text or "\t" in text:
        raise ValueError("space inside a URL")
    rest = text.split("://", 1)[1] if "://" in text else text
    host, slash, tail = rest.partition("/")
    host = _url_host(host)
    path = tail.split("#", 1)[0].rstrip("/")
    if not slash or path in ("", "."):
        return Entry("ip" if ip_text(host) else "domain", host, number)
    return Entry("url", f"{host}/{path}", number)


def _url_host(hostport: str) -> str:
    hostport = hostport.rsplit("@", 1)[-1]
    if hostport.startswith("["):
        host, closed, _ = hostport[1:].partition("]")
        if not closed:
            raise ValueError("unclosed '[' in the host")
    else:
        host = hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport
    ip = ip_text(host)
    if ip is not None and "/" not in ip:
        return ip
    name = check_name(host)
    # squidGuard strips "www." from URL-list hosts; url entries cover subdomains, so the
    # stripped host still matches www.<host> and the bare host, as squidGuard would.
    if name.startswith("www.") and name.count(".") >= 2:
        name = name[4:]
    return name
