"""Building an :class:`Index` from entries, streaming: about 10 bytes per raw entry while building.

Entries are reduced to their 61-bit key and a small *pair* id (category, source) as they arrive;
no name string is kept. :meth:`IndexBuilder.build` then sizes the hash tables once and merges
entries listed by several sources into interned combos.
"""

from __future__ import annotations

import array
import ipaddress
import time
from collections.abc import Iterable

from filterproxy.classify.index import Combo, Index, Network, Pair, SourceInfo
from filterproxy.classify.table import LOAD_FACTOR, HashTable, build_table, name_key
from filterproxy.model import Category


class IndexBuilder:
    """Collect entries of many sources, then :meth:`build` one immutable index."""

    def __init__(self) -> None:
        self._pairs: dict[Pair, int] = {}
        self._domain_keys = array.array("q")
        self._domain_pairs = array.array("H")
        self._url_keys = array.array("q")
        self._url_pairs = array.array("H")
        self._url_hosts = array.array("q")
        self._exception_keys = array.array("q")
        self._exception_pairs = array.array("H")
        self._ip_keys = array.array("q")
        self._ip_pairs = array.array("H")
        self._networks: dict[Network, set[int]] = {}
        self._tlds: dict[str, set[int]] = {}

    def pair(self, category: Category, source: str) -> int:
        """The id of (category, source), allocated on first use."""
        found = self._pairs.get((category, source))
        if found is None:
            found = self._pairs[(category, source)] = len(self._pairs)
            if found > 0xFFFF:
                raise ValueError("more than 65536 (category, source) pairs")
        return found

    def add_domain(self, name: str, pair: int) -> None:
        if "." not in name:  # a whole top-level domain: kept apart so lookups never probe bare TLDs
            self._tlds.setdefault(name, set()).add(pair)
            return
        self._domain_keys.append(name_key(name))
        self._domain_pairs.append(pair)

    def add_exception(self, name: str, pair: int) -> None:
        """An allow entry inside a third-party list (adblock ``@@||d^``, RPZ rpz-passthru).

        It cancels only its own source's category, for matches at the same or a less specific
        level; it never overrides other lists, the school's lists or illegal feeds.
        """
        self._exception_keys.append(name_key(name))
        self._exception_pairs.append(pair)

    def add_url(self, rule: str, pair: int) -> None:
        """Add ``host/path`` (normalised host, lower-case path without trailing slash)."""
        host, slash, path = rule.partition("/")
        if not slash or not path:
            self.add_domain(host, pair)
            return
        self._url_keys.append(name_key(host + "/" + path.lower().rstrip("/")))
        self._url_pairs.append(pair)
        self._url_hosts.append(name_key(host))

    def add_ip(self, text: str, pair: int) -> None:
        network = ipaddress.ip_network(text, strict=False)
        if network.num_addresses == 1:
            self._ip_keys.append(name_key(str(network.network_address)))
            self._ip_pairs.append(pair)
        else:
            self._networks.setdefault(network, set()).add(pair)

    def mark(self) -> tuple[int, int, int, int]:
        """A position to :meth:`rollback` to when a source turns out to be unusable."""
        return len(self._domain_keys), len(self._url_keys), len(self._exception_keys), len(self._ip_keys)

    def rollback(self, mark: tuple[int, int, int, int], pair: int) -> None:
        domains, urls, exceptions, ips = mark
        del self._ip_keys[ips:], self._ip_pairs[ips:]
        del self._exception_keys[exceptions:], self._exception_pairs[exceptions:]
        del self._domain_keys[domains:], self._domain_pairs[domains:]
        del self._url_keys[urls:], self._url_pairs[urls:], self._url_hosts[urls:]  # one host per URL entry
        for table in (self._networks, self._tlds):
            for pairs in table.values():
                pairs.discard(pair)

    def build(self, sources: Iterable[SourceInfo] = (), fingerprint: str = "") -> Index:
        interner = _Interner(self._pairs)
        domains = _table(self._domain_keys, self._domain_pairs, interner)
        urls = _table(self._url_keys, self._url_pairs, interner)
        hosts = _table(self._url_hosts, array.array("H", bytes(2 * len(self._url_hosts))), interner)
        exceptions = _table(self._exception_keys, self._exception_pairs, interner)
        ips = _table(self._ip_keys, self._ip_pairs, interner)
        nets = tuple(
            sorted(
                ((net, interner.of_pairs(pairs)) for net, pairs in self._networks.items() if pairs),
                key=lambda item: item[0].prefixlen,
                reverse=True,
            )
        )
        tlds = {tld: interner.of_pairs(pairs) for tld, pairs in self._tlds.items() if pairs}
        return Index(
            combos=tuple(interner.combos),
            domains=domains,
            urls=urls,
            url_hosts=hosts,
            exceptions=exceptions,
            ips=ips,
            networks=nets,
            tlds=tlds,
            sources=tuple(sources),
            built_at=time.time(),
            fingerprint=fingerprint,
        )


class _Interner:
    """Interns sets of pair ids as combo ids; combo ``i < len(pairs)`` is the single pair ``i``."""

    def __init__(self, pairs: dict[Pair, int]) -> None:
        self._by_id = {pid: pair for pair, pid in pairs.items()}
        self._sets: list[frozenset[int]] = [frozenset((pid,)) for pid in range(len(pairs))]
        self._ids: dict[frozenset[int], int] = {s: i for i, s in enumerate(self._sets)}
        self._merged: dict[tuple[int, int], int] = {}

    def of_pairs(self, pairs: Iterable[int]) -> int:
        key = frozenset(pairs)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self._sets)
            self._sets.append(key)
        return found

    def merge(self, old: int, new: int) -> int:
        if old == new:
            return old
        found = self._merged.get((old, new))
        if found is None:
            found = self._merged[(old, new)] = self.of_pairs(self._sets[old] | self._sets[new])
        return found

    @property
    def combos(self) -> list[Combo]:
        return [Combo.of([self._by_id[pid] for pid in sorted(s)]) for s in self._sets]


def _table(keys: array.array[int], values: array.array[int], interner: _Interner) -> HashTable | None:
    if not keys:
        return None
    built_keys, built_values = build_table(zip(keys, values, strict=True), len(keys), interner.merge)
    filled = [i for i, key in enumerate(built_keys) if key]
    if len(filled) < 0.85 * LOAD_FACTOR * len(built_keys):  # many duplicates: size to the distinct count
        pairs = ((built_keys[i], built_values[i]) for i in filled)
        built_keys, built_values = build_table(pairs, len(filled), interner.merge)
    return HashTable(built_keys, built_values)
