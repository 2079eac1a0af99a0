"""The category index: which lists name a domain, a URL prefix or an IP, without one str per entry.

An :class:`Index` is immutable. Its big parts are :class:`~filterproxy.classify.table.HashTable`
instances whose values are *combo* ids: a combo is the set of ``(category, source)`` pairs that
list an entry, interned once (a few hundred distinct combos cover millions of entries).

* ``domains``: key of a domain -> combo (an entry covers the domain and every subdomain)
* ``urls``: key of ``host + path`` -> combo (UT1 ``urls`` and URL-level illegal feeds)
* ``url_hosts``: key of a host that has URL entries (the value is unused), so most requests skip path probing
* ``exceptions``: key of a domain -> combo of the lists that except it (adblock ``@@``)
* ``ips``: key of an exact address -> combo; ``networks``: CIDR entries (IP entries never enter the
  domain table)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from filterproxy.classify.table import HashTable, name_key, suffix_keys
from filterproxy.model import Category, IPAddress

Pair = tuple[Category, str]  # (category, source id)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_PATH_PREFIXES = 16


# When several categories list one entry, the verdict names the most serious it acts on.
SEVERITY_ORDER: tuple[Category, ...] = (
    Category.ILLEGAL,
    Category.ADULT,
    Category.EXTREMISM,
    Category.SELFHARM,
    Category.HATE,
    Category.VIOLENCE,
    Category.DRUGS,
    Category.MALWARE,
    Category.GAMBLING,
    Category.CIRCUMVENTION,
    Category.SOCIAL,
)
_RANK = {category: rank for rank, category in enumerate(SEVERITY_ORDER)}


@dataclass(frozen=True, slots=True, init=False)
class Combo:
    """The lists naming one entry: category -> first source id; ``ordered`` by severity."""

    sources: dict[Category, str]
    ordered: tuple[Category, ...]
    illegal: bool

    def __init__(self, sources: dict[Category, str]) -> None:
        object.__setattr__(self, "sources", sources)
        object.__setattr__(self, "ordered", tuple(sorted(sources, key=_RANK.__getitem__)))
        object.__setattr__(self, "illegal", Category.ILLEGAL in sources)

    @classmethod
    def of(cls, pairs: Sequence[Pair]) -> Combo:
        sources: dict[Category, str] = {}
        for category, source in sorted(pairs):
            sources.setdefault(category, source)
        return cls(sources)


class Match(NamedTuple):
    """One index hit: the combo and the rule text that matched (a NamedTuple: built per hit)."""

    combo: Combo
    rule: str


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the index remembers about each source it was built from (for stats and the review)."""

    id: str
    category: Category
    path: str
    entries: int = 0
    bad_lines: int = 0
    skipped: int = 0
    mtime: float = 0.0
    size: int = 0
    licence: str = ""
    attribution: str = ""
    errors: tuple[str, ...] = ()  # first few `file:line: reason` samples
    stale: str = ""  # why the live file was rejected, when the index holds the source's last good copy


@dataclass(frozen=True, slots=True)
class Index:
    """An immutable, shareable category index."""

    combos: tuple[Combo, ...]
    domains: HashTable | None
    urls: HashTable | None
    url_hosts: HashTable | None
    exceptions: HashTable | None = None
    ips: HashTable | None = None  # key of the canonical address text -> combo
    networks: tuple[tuple[Network, int], ...] = ()
    tlds: dict[str, int] = field(default_factory=dict)  # whole top-level domains (rare) -> combo
    sources: tuple[SourceInfo, ...] = ()
    built_at: float = 0.0
    fingerprint: str = ""

    def tld_match(self, name: str) -> Match | None:
        if not self.tlds:
            return None
        tld = name[name.rfind(".") + 1 :]
        combo = self.tlds.get(tld)
        return Match(self.combos[combo], tld) if combo is not None else None

    def match_url(self, name: str, path: str) -> Iterator[Match]:
        """Every URL entry ``host/prefix`` covering ``name`` + ``path`` (normalised, lower case)."""
        if self.urls is None or self.url_hosts is None:
            return
        has_host = self.url_hosts.get
        prefixes: list[str] | None = None
        for key, start in suffix_keys(name):
            if has_host(key) is None:
                continue
            prefixes = prefixes if prefixes is not None else path_prefixes(path)
            host = name[start:]
            for prefix in prefixes:
                rule = host + prefix
                combo = self.urls.get(name_key(rule))
                if combo is not None:
                    yield Match(self.combos[combo], rule)

    def excepted(self, name: str, matches: list[Match]) -> list[Match]:
        """``matches`` less the categories a list's own exception cancels at the same or a deeper level."""
        table = self.exceptions
        if table is None or not matches:
            return matches
        hits = table.get_suffixes(name)
        if not hits:
            return matches
        kept: list[Match] = []
        for match in matches:
            depth = len(name) - len(match.rule)  # start offset of the match in name
            cancelled = {
                c for combo, start in hits if start <= depth for c, s in self.combos[combo].sources.items()
                if match.combo.sources.get(c) == s
            }
            if not cancelled:
                kept.append(match)
            elif len(cancelled) < len(match.combo.sources):
                rest = {c: s for c, s in match.combo.sources.items() if c not in cancelled}
                kept.append(Match(Combo(rest), match.rule))
        return kept

    def has_url_entries(self, name: str) -> bool:
        """Whether any URL-level entry exists under ``name`` or its parents."""
        if self.url_hosts is None:
            return False
        has_host = self.url_hosts.get
        return any(has_host(key) is not None for key, _ in suffix_keys(name))

    def match_ip(self, address: IPAddress) -> Match | None:
        text = str(address)
        combo = self.ips.get(name_key(text)) if self.ips is not None else None
        if combo is not None:
            return Match(self.combos[combo], text)
        for network, combo in self.networks:
            if address in network:
                return Match(self.combos[combo], str(network))
        return None

    @property
    def entry_count(self) -> int:
        return sum(s.entries for s in self.sources)


def path_prefixes(path: str) -> list[str]:
    """Candidate prefixes of a lower-cased path at '/' boundaries, longest first, query dropped last.

    ``/en/page.html?x=1`` -> ``/en/page.html?x=1``, ``/en/page.html``, ``/en``.
    """
    out: list[str] = []
    full = path.rstrip("/")
    if full:
        out.append(full)
    bare = full.split("?", 1)[0].rstrip("/")
    if bare and bare != full:
        out.append(bare)
    cut = bare.rfind("/")
    while cut > 0 and len(out) < MAX_PATH_PREFIXES:
        out.append(bare[:cut])
        cut = bare.rfind("/", 0, cut)
    return out
