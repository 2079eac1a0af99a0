"""Normalising host names, IP literals and URLs into the one form the index stores.

A name is lower-cased, stripped of surrounding space and a trailing dot, and IDN labels are
converted to punycode following UTS-46. Invalid names raise :class:`ValueError` with the reason.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

import idna

from filterproxy.model import IPAddress

MAX_NAME = 253
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.*")


def normalise_name(raw: str) -> str:
    """Return the canonical ASCII form of a DNS name, or raise ValueError saying why not."""
    name = raw.strip().rstrip(".")
    name = name.lower() if name.isascii() else _to_ascii(name)
    if not name:
        raise ValueError("empty name")
    if len(name) > MAX_NAME:
        raise ValueError(f"name longer than {MAX_NAME} characters")
    if not _ALLOWED.issuperset(name):
        bad = sorted(set(name) - _ALLOWED)[0]
        raise ValueError(f"character {bad!r} not allowed in a domain name")
    for label in name.split("."):
        if not label:
            raise ValueError("empty label")
        if len(label) > 63:
            raise ValueError("label longer than 63 characters")
    return name


@lru_cache(maxsize=4096)
def _to_ascii(name: str) -> str:
    try:
        return idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"invalid internationalised name: {exc}") from None


def parse_ip(text: str) -> IPAddress | None:
    """The IP address in ``text`` (IPv6 may be bracketed), or None when it is not an IP literal."""
    if not text or not (text[0].isdigit() or ":" in text or text[0] == "["):
        return None
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def split_url(url: str) -> tuple[str, str]:
    """Split ``[scheme://]host[:port]/path?query`` into (host, path); path always starts with '/'."""
    rest = url.split("://", 1)[1] if "://" in url else url
    slash = rest.find("/")
    hostport, path = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
    hostport = hostport.rsplit("@", 1)[-1]
    if hostport.startswith("["):
        host = hostport[1 : hostport.find("]")] if "]" in hostport else hostport[1:]
    else:
        host = hostport.split(":", 1)[0]
    return host, path


def normalise_path(path: str) -> str:
    """The path used for URL-list matching: no fragment, lower-cased scheme-less, no trailing slash."""
    path = path.split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    return path.rstrip("/") if len(path) > 1 else path
