"""DNS Response Policy Zone files (the BIND/Unbound RPZ master-file format), QNAME triggers only.

``name CNAME .`` (NXDOMAIN), ``name CNAME *.`` (NODATA) and ``name CNAME rpz-drop.`` list the
name, ``name CNAME rpz-passthru.`` allows it; ``*.name`` triggers list the same name, because a
filterproxy entry always covers its subdomains. ``32.1.2.0.192.rpz-ip`` triggers become IP entries.
Local-data rewrites (A records, CNAME to another name) are *unsupported*: a filter must not
redirect. SOA/NS records and ``$TTL`` are ignored; ``$ORIGIN`` and relative names are honoured.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator

from filterproxy.lists.parsers.base import BadLine, Entry, Parsed, check_name

_BLOCK = frozenset({".", "*.", "rpz-drop."})
_CLASSES = frozenset({"in", "ch", "hs"})
_IGNORED_TYPES = frozenset({"soa", "ns", "txt"})


class _Zone:
    """Parser state across lines: origin, the previous owner, an open ``(`` group."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.origin = ""
        self.owner = ""
        self.open_paren = False

    def absolute(self, name: str) -> str:
        """``name`` relative to the origin made absolute (lower case, with a trailing dot)."""
        name = name.lower()
        if name == "@":
            return self.origin
        if name.endswith("."):
            return name
        return f"{name}.{self.origin}" if self.origin else f"{name}."


def parse_rpz_lines(lines: Iterable[str], path: str) -> Iterator[Parsed]:
    """Parse an RPZ zone file; ``;`` starts a comment."""
    zone = _Zone(path)
    for number, raw in enumerate(lines, 1):
        text = raw.split(";", 1)[0].rstrip()
        if not text.strip():
            continue
        if zone.open_paren:
            zone.open_paren = ")" not in text
            continue
        result = _line(zone, text, number, raw.rstrip("\n"))
        if result is not None:
            yield result


def _line(zone: _Zone, text: str, number: int, raw: str) -> Parsed | None:
    if text.startswith("$"):
        return _directive(zone, text.split(), number, raw)
    tokens = text.split()
    if text[0] in " \t":
        owner = zone.owner
    else:
        owner, tokens = zone.absolute(tokens[0]), tokens[1:]
        zone.owner = owner
    while tokens and (tokens[0].isdigit() or tokens[0].lower() in _CLASSES):
        tokens = tokens[1:]
    if len(tokens) < 2:
        return BadLine(zone.path, number, "record without a type and data", raw)
    rtype, rdata = tokens[0].lower(), tokens[1].lower()
    if rtype in _IGNORED_TYPES:
        zone.open_paren = "(" in text and ")" not in text
        return None
    return _record(zone, owner, rtype, rdata, number, raw)


def _directive(zone: _Zone, tokens: list[str], number: int, raw: str) -> Parsed | None:
    if tokens[0].upper() == "$ORIGIN" and len(tokens) == 2:
        zone.origin = zone.absolute(tokens[1]) if tokens[1] != "." else ""
        return None
    if tokens[0].upper() == "$TTL":
        return None
    return BadLine(zone.path, number, f"directive {tokens[0][:20]} not supported", raw, True)


def _record(zone: _Zone, owner: str, rtype: str, rdata: str, number: int, raw: str) -> Parsed:
    if rtype != "cname" or (rdata not in _BLOCK and rdata != "rpz-passthru."):
        return BadLine(zone.path, number, f"{rtype.upper()} {rdata[:30]} is local data, not a block or "
                       "passthru action", raw, True)  # fmt: skip
    if zone.origin and not owner.endswith("." + zone.origin):
        return BadLine(zone.path, number, f"owner name not below the zone origin {zone.origin}", raw)
    trigger = owner.removesuffix(zone.origin).rstrip(".")
    if trigger.endswith(".rpz-ip"):
        return _rpz_ip(zone, trigger, number, raw)
    if trigger.endswith((".rpz-nsdname", ".rpz-nsip", ".rpz-client-ip")) or trigger == "rpz-ip":
        return BadLine(zone.path, number, "only QNAME and rpz-ip triggers are supported", raw, True)
    try:
        name = check_name(trigger)
    except ValueError as exc:
        return BadLine(zone.path, number, str(exc), raw)
    return Entry("allow" if rdata == "rpz-passthru." else "domain", name, number)


def _rpz_ip(zone: _Zone, trigger: str, number: int, raw: str) -> Parsed:
    """``24.0.2.0.192.rpz-ip`` -> ``192.0.2.0/24`` (IPv4 only; IPv6 ``zz`` forms are unsupported)."""
    labels = trigger.removesuffix(".rpz-ip").split(".")
    if len(labels) != 5 or "zz" in labels:
        return BadLine(zone.path, number, "rpz-ip trigger is not an IPv4 prefix", raw, True)
    try:
        network = ipaddress.ip_network(f"{'.'.join(reversed(labels[1:]))}/{labels[0]}", strict=False)
    except ValueError as exc:
        return BadLine(zone.path, number, f"bad rpz-ip trigger: {exc}", raw)
    if network.prefixlen == network.max_prefixlen:
        return Entry("ip", str(network.network_address), number)
    return Entry("ip", str(network), number)
