"""What a list parser yields: an :class:`Entry` per listed name, URL or address, a :class:`BadLine` otherwise.

The name checks here are the hot path of every list load: plain ASCII names are validated with one
compiled pattern and never reach the IDN code; only non-ASCII names take
:func:`filterproxy.classify.normalise.normalise_name`'s slow path.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from filterproxy.classify.normalise import MAX_NAME, normalise_name

EntryKind = Literal["domain", "url", "ip", "allow"]

# The whole structural check of a canonical ASCII name in one match: at most 253 characters, two
# or more labels of 1-63 characters, a top-level label that is not all digits. Upper case is
# allowed so the hot loop can match before it lower-cases.
FAST_NAME = re.compile(r"(?=.{1,253}\Z)(?:[a-zA-Z0-9_-]{1,63}\.)+(?=[0-9]*[a-zA-Z_-])[a-zA-Z0-9_-]{1,63}")
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One listed item.

    ``domain``/``allow``: a normalised name that covers itself and every subdomain.
    ``url``: ``host/path`` (host normalised, ``www.`` stripped, path without a trailing ``/``).
    ``ip``: an IPv4/IPv6 address or network in canonical text.
    """

    kind: EntryKind
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that yields no entry. ``unsupported`` marks valid syntax filterproxy does not act on
    (adblock cosmetic rules, RPZ local data...): count it, but not towards the bad-line share."""

    path: str
    line: int
    reason: str
    text: str
    unsupported: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


Parsed = Entry | BadLine


def check_name(raw: str) -> str:
    """The normalised name of one list entry, without a leading ``*.``; ValueError says why not.

    Stricter than normalise_name on purpose: a wildcard is only allowed as the leftmost label,
    and single-label names are refused because an entry covers all subdomains (``com`` would
    block a whole top-level domain).
    """
    if raw.startswith(("*.", ".")):
        # "*.example.org" and ".example.org" (squid, dnsmasq) both mean the name and its subdomains
        raw = raw[2:] if raw[0] == "*" else raw[1:]
    name = raw.lower().rstrip(".") if raw.isascii() else normalise_name(raw)
    if FAST_NAME.fullmatch(name) is None:
        raise ValueError(_why_not(name))
    return name


def _why_not(name: str) -> str:
    if not name:
        return "empty name"
    if len(name) > MAX_NAME:
        return f"name longer than {MAX_NAME} characters"
    if "*" in name:
        return "wildcard '*' only allowed as the leftmost label ('*.example.org')"
    if _LABEL.fullmatch(name):
        return "single-label name (would block a whole top-level domain)"
    try:
        normalise_name(name)
    except ValueError as exc:
        return str(exc)
    if name.rpartition(".")[2].isdigit():
        return "numeric top-level label (an incomplete IP address?)"
    return "label longer than 63 characters"


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# A dotted quad without leading zeros is already canonical: no need for the ipaddress module.
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def ip_text(text: str) -> str | None:
    """Canonical text of an IP address or CIDR network, None when ``text`` is not one.

    This is the list parsers' check, not :func:`filterproxy.classify.normalise.parse_ip`: it also
    accepts networks (``10.0.0.0/8``), refuses bracketed IPv6, returns the text the index stores
    and skips the ipaddress module for canonical dotted quads (the hot path of a list load).
    """
    if not text or not (text[0].isdigit() or ":" in text):
        return None
    if _CANONICAL_IPV4.fullmatch(text):
        return text
    try:
        if "/" in text:
            return str(ipaddress.ip_network(text, strict=False))
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
